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
        ChannelFollow channel,
        RescheduleSpec reschedule,
        RestartSpec restart) {

    public static final String RUNTIME_PROCESS = "process";
    public static final String RUNTIME_DOCKER = "docker";

    /** An intent that follows no channel, without rescheduling settings or force restarts. */
    public AppIntent(Map<String, VersionSpec> versions, String active, RunSpec run, List<PortSpec> ports,
                     Integer scale, Resources resources, Constraints constraints, HealthSpec health,
                     String runtime, Boolean stateful, Integer maxUnavailable) {
        this(versions, active, run, ports, scale, resources, constraints, health, runtime, stateful,
                maxUnavailable, null, null, null);
    }

    /** An intent that may follow a channel, without rescheduling settings or force restarts. */
    public AppIntent(Map<String, VersionSpec> versions, String active, RunSpec run, List<PortSpec> ports,
                     Integer scale, Resources resources, Constraints constraints, HealthSpec health,
                     String runtime, Boolean stateful, Integer maxUnavailable, ChannelFollow channel) {
        this(versions, active, run, ports, scale, resources, constraints, health, runtime, stateful,
                maxUnavailable, channel, null, null);
    }

    /** An intent that follows no channel, with rescheduling settings and force restarts. */
    public AppIntent(Map<String, VersionSpec> versions, String active, RunSpec run, List<PortSpec> ports,
                     Integer scale, Resources resources, Constraints constraints, HealthSpec health,
                     String runtime, Boolean stateful, Integer maxUnavailable, RescheduleSpec reschedule,
                     RestartSpec restart) {
        this(versions, active, run, ports, scale, resources, constraints, health, runtime, stateful,
                maxUnavailable, null, reschedule, restart);
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
                stateful, maxUnavailable, channel, reschedule, restart);
    }

    public AppIntent withVersions(Map<String, VersionSpec> newVersions) {
        return new AppIntent(newVersions, active, run, ports, scale, resources, constraints, health, runtime,
                stateful, maxUnavailable, channel, reschedule, restart);
    }

    public AppIntent withChannel(ChannelFollow newChannel) {
        return new AppIntent(versions, active, run, ports, scale, resources, constraints, health, runtime,
                stateful, maxUnavailable, newChannel, reschedule, restart);
    }

    /** True while the app follows a channel: it names one and has not stopped following it. */
    @JsonIgnore
    public boolean following() {
        return channel != null && channel.following();
    }

    public RescheduleSpec rescheduleOrDefault() {
        return reschedule == null ? RescheduleSpec.DEFAULT : reschedule;
    }

    /** The restart generation of the instance on {@code host} (0 until {@code intentctl restart}). */
    public long restartGenerationFor(String host) {
        return restart == null ? 0 : restart.generationFor(host);
    }

    /** The same intent with a force restart of every instance ({@code host} null) or of one host's. */
    public AppIntent withRestart(String host, String at) {
        RestartSpec r = (restart == null ? new RestartSpec(null, null, null) : restart).next(host, at);
        return new AppIntent(versions, active, run, ports, scale, resources, constraints, health, runtime,
                stateful, maxUnavailable, channel, reschedule, r);
    }

    /** The same intent with another runtime. */
    public AppIntent withRuntime(String newRuntime) {
        return new AppIntent(versions, active, run, ports, scale, resources, constraints, health, newRuntime,
                stateful, maxUnavailable, channel, reschedule, restart);
    }
}
