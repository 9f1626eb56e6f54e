package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * What an operator wants for one app: the versions to stage, the one to run, and where and how to run it.
 *
 * <p>Stored as JSON at {@code /intent/apps/<app>}. Absent optional fields take the defaults given by
 * the accessors below; {@link io.intent.store.codec.Validation} says what a valid value is.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AppIntent(
        Map<String, VersionSpec> versions,
        String active,
        RunSpec run,
        List<PortSpec> ports,
        Integer scale,
        Resources resources,
        Constraints constraints,
        HealthSpec health,
        String runtime,
        Boolean stateful,
        Integer maxUnavailable,
        ChannelFollow channel) {

    public static final String RUNTIME_PROCESS = "process";
    public static final String RUNTIME_DOCKER = "docker";

    /** An intent that follows no channel. */
    public AppIntent(Map<String, VersionSpec> versions, String active, RunSpec run, List<PortSpec> ports,
                     Integer scale, Resources resources, Constraints constraints, HealthSpec health,
                     String runtime, Boolean stateful, Integer maxUnavailable) {
        this(versions, active, run, ports, scale, resources, constraints, health, runtime, stateful,
                maxUnavailable, null);
    }

    public AppIntent {
        versions = versions == null ? Map.of() : Map.copyOf(versions);
        ports = ports == null ? List.of() : List.copyOf(ports);
    }

    /** Number of distinct hosts that should run this app; defaults to 1. */
    public int scaleOrDefault() {
        return scale == null ? 1 : scale;
    }

    /** {@code process} (runit) unless the intent says {@code docker}. */
    public String runtimeOrDefault() {
        return runtime == null ? RUNTIME_PROCESS : runtime;
    }

    @JsonIgnore
    public boolean isDocker() {
        return RUNTIME_DOCKER.equals(runtimeOrDefault());
    }

    public Resources resourcesOrDefault() {
        return resources == null ? Resources.NONE : resources;
    }

    public Constraints constraintsOrDefault() {
        return constraints == null ? Constraints.NONE : constraints;
    }

    public boolean statefulOrDefault() {
        return stateful != null && stateful;
    }

    public int maxUnavailableOrDefault() {
        return maxUnavailable == null ? 1 : maxUnavailable;
    }

    public AppIntent withActive(String newActive) {
        return new AppIntent(versions, newActive, run, ports, scale, resources, constraints, health, runtime,
                stateful, maxUnavailable, channel);
    }

    public AppIntent withVersions(Map<String, VersionSpec> newVersions) {
        return new AppIntent(newVersions, active, run, ports, scale, resources, constraints, health, runtime,
                stateful, maxUnavailable, channel);
    }

    public AppIntent withChannel(ChannelFollow newChannel) {
        return new AppIntent(versions, active, run, ports, scale, resources, constraints, health, runtime,
                stateful, maxUnavailable, newChannel);
    }

    /** True while the app follows a channel: it names one and has not stopped following it. */
    @JsonIgnore
    public boolean following() {
        return channel != null && channel.following();
    }

}
