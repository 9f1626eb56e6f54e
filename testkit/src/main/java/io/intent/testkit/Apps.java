package io.intent.testkit;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Constraints;
import io.intent.store.model.HealthSpec;
import io.intent.store.model.PortSpec;
import io.intent.store.model.Resources;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link AppIntent} a test or benchmark writes, naming only what it cares about:
 * {@code Apps.app().version("1.0", uri, sha).port("http", 8080).build()}.
 *
 * <p>Unless told otherwise an app has one version {@code 1.0} ({@link #ARTIFACT}, digest {@link #SHA}), runs
 * {@code bin/server}, listens on no port and runs one instance; the active version is the first one added.
 */
public final class Apps {
    /** The artifact of the default version (nothing fetches it unless a test assigns the app to a host). */
    public static final String ARTIFACT = "file:///srv/app-1.0.tar.gz";
    /** The digest of the default version. */
    public static final String SHA = "a".repeat(64);

    private final Map<String, VersionSpec> versions = new LinkedHashMap<>();
    private final List<PortSpec> ports = new ArrayList<>();
    private String active;
    private List<String> command = List.of("bin/server");
    private Map<String, String> env = Map.of();
    private Integer scale = 1;
    private Resources resources;
    private Constraints constraints;
    private HealthSpec health;
    private Integer maxUnavailable;

    private Apps() {
    }

    /** A new app intent, defaults as above. */
    public static Apps app() {
        return new Apps();
    }

    /** Adds a version fetched from {@code artifact} and checked against {@code sha256}. */
    public Apps version(String name, String artifact, String sha256) {
        versions.put(name, new VersionSpec(artifact, sha256, null, null));
        return this;
    }

    /** Replaces all versions. */
    public Apps versions(Map<String, VersionSpec> all) {
        versions.clear();
        versions.putAll(all);
        return this;
    }

    public Apps active(String version) {
        this.active = version;
        return this;
    }

    public Apps command(String... argv) {
        this.command = List.of(argv);
        return this;
    }

    public Apps env(Map<String, String> env) {
        this.env = env;
        return this;
    }

    /** Adds a TCP port. */
    public Apps port(String name, int port) {
        return port(new PortSpec(name, port, "tcp"));
    }

    public Apps port(PortSpec port) {
        ports.add(port);
        return this;
    }

    /** Replaces all ports. */
    public Apps ports(List<PortSpec> all) {
        ports.clear();
        ports.addAll(all);
        return this;
    }

    public Apps scale(Integer scale) {
        this.scale = scale;
        return this;
    }

    public Apps resources(Resources resources) {
        this.resources = resources;
        return this;
    }

    /** Runs only on hosts carrying every one of {@code labels}. */
    public Apps labels(Map<String, String> labels) {
        this.constraints = new Constraints(labels, null);
        return this;
    }

    /** An HTTP health check of {@code path} on the named port. */
    public Apps health(String path, String port, int timeoutSeconds) {
        this.health = new HealthSpec(path, port, timeoutSeconds);
        return this;
    }

    public Apps maxUnavailable(Integer maxUnavailable) {
        this.maxUnavailable = maxUnavailable;
        return this;
    }

    public AppIntent build() {
        Map<String, VersionSpec> vs = versions.isEmpty()
                ? Map.of("1.0", new VersionSpec(ARTIFACT, SHA, null, null)) : versions;
        String act = active != null ? active : vs.keySet().iterator().next();
        return new AppIntent(vs, act, new RunSpec(command, env, null), ports, scale, resources, constraints, health,
                null, null, maxUnavailable);
    }
}
