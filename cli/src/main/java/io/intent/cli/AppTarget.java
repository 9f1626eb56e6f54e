package io.intent.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code APP [--host HOST]}: an app's instances, or only the one on a host (logs, restart). */
final class AppTarget {
    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Option(names = "--host", paramLabel = "HOST", description = "only the instance on this host")
    String host;
}
