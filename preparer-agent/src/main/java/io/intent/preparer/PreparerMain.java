package io.intent.preparer;

import io.intent.store.config.AgentOptions;
import io.intent.store.config.ConfigDefaults;
import io.intent.store.converge.AgentRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code preparer-agent}: prepares every version assigned to this host (see docs/preparer.md). */
@Command(name = "preparer-agent", mixinStandardHelpOptions = true,
        description = "Fetches, verifies and unpacks every version assigned to this host, crash-safe.")
public final class PreparerMain implements Callable<Integer> {
    @Mixin
    AgentOptions agent = new AgentOptions();

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "download cache, keyed by sha256; same filesystem as --root. Default: <root>/cache")
    Path cacheDir;

    @Option(names = "--max-archive-mb", paramLabel = "MB", defaultValue = "2048",
            description = "largest artifact accepted. Default: ${DEFAULT-VALUE}")
    long maxArchiveMb;

    @Option(names = "--max-unpacked-mb", paramLabel = "MB", defaultValue = "8192",
            description = "largest total size an archive may unpack to (archive bombs). Default: ${DEFAULT-VALUE}")
    long maxUnpackedMb;

    @Option(names = "--max-entries", paramLabel = "N", defaultValue = "100000",
            description = "most entries an archive may hold. Default: ${DEFAULT-VALUE}")
    int maxEntries;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "connect and response-header timeout. Default: ${DEFAULT-VALUE}")
    int connectTimeout;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "longest pause without data during a download. Default: ${DEFAULT-VALUE}")
    int idleTimeout;

    @Option(names = "--download-timeout", paramLabel = "SECONDS", defaultValue = "1800",
            description = "longest a whole download may take. Default: ${DEFAULT-VALUE}")
    int downloadTimeout;

    @Option(names = "--concurrent-downloads", paramLabel = "N", defaultValue = "2",
            description = "versions fetched and unpacked at once. Default: ${DEFAULT-VALUE}")
    int concurrentDownloads;

    PreparerSettings settings(Path root) {
        PreparerSettings d = PreparerSettings.defaults(root);
        return new PreparerSettings(root, cacheDir, maxArchiveMb << 20, maxUnpackedMb << 20, maxEntries,
                Duration.ofSeconds(connectTimeout), Duration.ofSeconds(idleTimeout),
                Duration.ofSeconds(downloadTimeout), d.maxRedirects(), concurrentDownloads);
    }

    private PreparerAgent factory;

    /** Starts the agent and returns its runtime (the caller closes it, then {@link #factory()}). */
    public AgentRuntime start() {
        factory = PreparerAgent.factory(settings(agent.rootDir()));
        AgentRuntime runtime = AgentRuntime.start(agent, Preparer.AGENT, List.of(factory));
        factory.attach(runtime);
        return runtime;
    }

    public PreparerAgent factory() {
        return factory;
    }

    @Override
    public Integer call() throws Exception {
        AgentRuntime runtime = start();
        runtime.runUntilSignalled();
        factory.close();
        return 0;
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new PreparerMain());
        cl.setDefaultValueProvider(ConfigDefaults.from(args, System.getenv()));
        System.exit(cl.execute(args));
    }
}
