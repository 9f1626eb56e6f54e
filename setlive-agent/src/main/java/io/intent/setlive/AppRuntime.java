package io.intent.setlive;

import io.intent.agent.InstallLayout;
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

    /**
     * What the runtime knows of an instance beyond up or down, for the status.
     *
     * @param id           the pid (runit) or container id (Docker), null when nothing runs
     * @param startedAt    when the running process or container started, null when nothing runs
     * @param restarts     how often it exited without being asked to and was brought back (since its spec was
     *                     started)
     * @param lastExitCode the last such exit's code, null when none ({@code -1}: a signal ended it)
     * @param lastSignal   the signal that ended it, null when none
     * @param oomKilled    Docker only: whether the kernel's OOM killer ended the last run
     */
    record Facts(String id, Instant startedAt, int restarts, Integer lastExitCode, Integer lastSignal,
                 Boolean oomKilled) {
        static final Facts NONE = new Facts(null, null, 0, null, null, null);
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

    /** What the runtime knows of the app's instance; {@link Facts#NONE} when it has nothing. */
    Facts facts(String app) throws Exception;

    /**
     * Restarts the running instance with the spec it runs (a liveness restart): stopped gracefully, killed after
     * {@code timeout}, and started again.
     */
    void restart(String app, Duration timeout) throws Exception;

    /** Whether {@link #restart} shows up in {@link Facts#restarts()} (runit counts it; Docker does not). */
    boolean countsOwnRestarts();

    /** Apps this runtime has anything for on this host. */
    Set<String> apps() throws Exception;

    /**
     * Whether this runtime may have anything for {@code app}: asked on every reconcile of an app of the other
     * runtime, so a runtime may answer from a cached listing. Default: {@link #apps()}.
     */
    default boolean mayHave(String app) throws Exception {
        return apps().contains(app);
    }

    /**
     * The image a spec of this runtime runs, from the install's marker: null when it runs no image (runit).
     *
     * @throws IllegalArgumentException when the runtime needs an image and the marker names none
     */
    default String imageId(InstallLayout.Marker marker) {
        return null;
    }

    /** Lets go of what the runtime holds open (an engine connection); apps keep running. Default: nothing. */
    default void close() {
    }
}
