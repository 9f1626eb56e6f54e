package io.intent.setlive;

import io.intent.store.model.AppIntent;
import java.time.Duration;

/**
 * setlive's own settings, beside the shared agent options.
 *
 * @param runtimeDefault runtime for intents that name none ({@code process} or {@code docker})
 * @param stopTimeout    how long an app gets to stop after SIGTERM before it is killed
 * @param dockerHost     the Docker engine's address, e.g. {@code unix:///var/run/docker.sock}
 * @param runsvdir       whether setlive may start a runsvdir itself when none supervises its services dir
 * @param logLimits      how much of each app's output the host keeps (svlogd rotation, Docker's json-file limits)
 * @param logsKeyFile    this host's log key file (requests for logs must be signed with it); null: logs refused
 */
public record SetliveConfig(String runtimeDefault, Duration stopTimeout, String dockerHost, Runsvdir.Mode runsvdir,
                            LogLimits logLimits, java.nio.file.Path logsKeyFile) {
    public static final String DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

    /** With the default log limits. */
    public SetliveConfig(String runtimeDefault, Duration stopTimeout, String dockerHost, Runsvdir.Mode runsvdir) {
        this(runtimeDefault, stopTimeout, dockerHost, runsvdir, LogLimits.DEFAULT, null);
    }

    public SetliveConfig {
        logLimits = logLimits == null ? LogLimits.DEFAULT : logLimits;
        if (!AppIntent.RUNTIME_PROCESS.equals(runtimeDefault) && !AppIntent.RUNTIME_DOCKER.equals(runtimeDefault)) {
            throw new IllegalArgumentException("--runtime-default must be process or docker, not '" + runtimeDefault
                    + "'");
        }
        if (stopTimeout.isNegative() || stopTimeout.isZero()) {
            throw new IllegalArgumentException("--stop-timeout must be positive");
        }
    }

    public static SetliveConfig defaults() {
        return new SetliveConfig(AppIntent.RUNTIME_PROCESS, Duration.ofSeconds(10), DEFAULT_DOCKER_HOST,
                Runsvdir.Mode.AUTO);
    }
}
