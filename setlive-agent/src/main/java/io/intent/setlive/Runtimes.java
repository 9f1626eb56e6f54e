package io.intent.setlive;

import io.intent.agent.InstallLayout;
import java.nio.file.Path;

/**
 * The two runtimes setlive runs apps with, handed to {@link SetliveReconciler} (so a test or another host setup can
 * pass its own), and where setlive keeps its own state on disk.
 *
 * @param process  runs {@code runtime: process} apps (runit in production)
 * @param docker   runs {@code runtime: docker} apps
 * @param stateDir setlive's own files: pending switches and restart records
 */
record Runtimes(AppRuntime process, AppRuntime docker, Path stateDir) {

    /** The production runtimes: runit under {@code <root>/services} and the Docker engine of the config. */
    static Runtimes of(InstallLayout layout, String host, String address, SetliveConfig config, Path nodeConfig) {
        RunitRuntime runit = new RunitRuntime(layout, config.runsvdir(), config.logLimits());
        runit.nodeConfig(nodeConfig);
        return new Runtimes(runit, new DockerRuntime(config.dockerHost(), host, address, config.logLimits(), layout),
                runit.stateDir());
    }

    /** The runtime of {@code kind} ({@code process} or {@code docker}). */
    AppRuntime of(boolean isDocker) {
        return isDocker ? docker : process;
    }

    /** The runtime that is not the one of {@code kind}: it must not keep the app once a switch is under way. */
    AppRuntime other(boolean isDocker) {
        return isDocker ? process : docker;
    }
}
