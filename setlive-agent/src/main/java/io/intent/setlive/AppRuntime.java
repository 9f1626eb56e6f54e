package io.intent.setlive;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * What runs an app on this host: runit ({@link RunitRuntime}) or Docker ({@link DockerRuntime}). Each keeps the
 * {@link LaunchSpec} of what it runs next to it (a file beside the run script, a container label), so the agent
 * can tell "already live with this spec" from "needs a restart" after any crash or restart.
 */
public interface AppRuntime {
    /** What one runtime has for an app: the spec it was started with, its fingerprint, and whether it runs. */
    record Instance(LaunchSpec spec, String fingerprint, boolean up, long pid, Instant since) {
    }

    /** {@code process} or {@code docker}, as in the intent's {@code runtime}. */
    String kind();

    /** The fingerprint of a spec as this runtime renders it; equal fingerprints mean no restart. */
    String fingerprint(LaunchSpec spec);

    /** What runs (or is configured) for {@code app}, or empty when this runtime has nothing for it. */
    Optional<Instance> inspect(String app) throws Exception;

    /** Stops the app (graceful, then killed after {@code timeout}); keeps its configuration. No-op when absent. */
    void stop(String app, Duration timeout) throws Exception;

    /** Configures the app for {@code spec} and starts it; the caller has stopped the old one and swapped current. */
    void start(LaunchSpec spec, Duration timeout) throws Exception;

    /** After {@code live} proved healthy: drops whatever else this runtime kept for the app (old containers). */
    void retire(String app, LaunchSpec live) throws Exception;

    /** Stops the app and removes everything this runtime has for it. No-op when absent. */
    void remove(String app, Duration timeout) throws Exception;

    /** Apps this runtime has anything for on this host. */
    Set<String> apps() throws Exception;
}
