package io.intent.setlive;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The setlive agent's flags (a picocli mixin), shared by its own main and any launcher that runs it.
 *
 * <p>The fields look like the other agents' options on purpose: picocli wants one annotated field per flag, and
 * each flag here is setlive's own, declared once; the shared flags come in through {@code AgentOptions}.
 */
public final class SetliveOptions {
    @Option(names = "--runtime-default", paramLabel = "RUNTIME", defaultValue = "process",
            description = "runtime of intents that name none: process or docker. Default: ${DEFAULT-VALUE}")
    public String runtimeDefault;

    @Option(names = "--stop-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "how long an app gets to stop after SIGTERM before SIGKILL. Default: ${DEFAULT-VALUE}")
    public int stopTimeoutSeconds;

    @Option(names = "--docker-host", paramLabel = "URL", defaultValue = SetliveConfig.DEFAULT_DOCKER_HOST,
            description = "Docker engine for runtime: docker. Default: ${DEFAULT-VALUE}")
    public String dockerHost;

    @Option(names = "--runsvdir", paramLabel = "MODE", defaultValue = "auto",
            description = "external: adopt the runsvdir the host's supervisor unit (intent-runsvdir.service) runs on "
                    + "<root>/services and never start one (real hosts); auto: start one when none runs (dev, tests, "
                    + "the demo; it then dies with the agent's systemd unit). Default: ${DEFAULT-VALUE}")
    public String runsvdir;

    @Option(names = "--log-max-bytes", paramLabel = "BYTES", defaultValue = "1000000",
            description = "each app's output is rotated when its current log file reaches this size (svlogd for runit "
                    + "apps, Docker's json-file max-size). Default: ${DEFAULT-VALUE}")
    public long logMaxBytes;

    @Option(names = "--log-files", paramLabel = "COUNT", defaultValue = "10",
            description = "rotated log files kept per app besides the current one. Default: ${DEFAULT-VALUE}")
    public int logFiles;

    @Option(names = "--logs-key-file", paramLabel = "FILE",
            description = "this host's log key (from `intent-api --logs-host-key HOST`): only the API's requests signed "
                    + "with it get the apps' logs from /v1/logs/ on the agent's http port; without it every log "
                    + "request gets 401")
    public java.nio.file.Path logsKeyFile;

    /** The configuration these flags describe. */
    public SetliveConfig config() {
        return new SetliveConfig(runtimeDefault, Duration.ofSeconds(stopTimeoutSeconds), dockerHost,
                Runsvdir.Mode.parse(runsvdir), new LogLimits(logMaxBytes, logFiles), logsKeyFile);
    }
}
