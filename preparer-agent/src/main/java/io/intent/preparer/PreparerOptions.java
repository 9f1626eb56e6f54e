package io.intent.preparer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The preparer's flags (a picocli mixin), shared by its own main and any launcher that runs it.
 *
 * <p>These fields look like {@code AgentOptions}' on purpose, not by copy: picocli declares one annotated field per
 * flag, and every flag here is the preparer's own and declared once. The shared flags come in through
 * {@code AgentOptions}, mixed in next to this class by {@code preparer-agent} and by {@code node}.
 */
public final class PreparerOptions {
    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "download cache, keyed by sha256; same filesystem as --root. Default: <root>/cache")
    public Path cacheDir;

    @Option(names = "--max-archive-mb", paramLabel = "MB", defaultValue = "2048",
            description = "largest artifact accepted. Default: ${DEFAULT-VALUE}")
    public long maxArchiveMb;

    @Option(names = "--max-unpacked-mb", paramLabel = "MB", defaultValue = "8192",
            description = "largest total size an archive may unpack to (archive bombs). Default: ${DEFAULT-VALUE}")
    public long maxUnpackedMb;

    @Option(names = "--max-entries", paramLabel = "N", defaultValue = "100000",
            description = "most entries an archive may hold. Default: ${DEFAULT-VALUE}")
    public int maxEntries;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "connect and response-header timeout. Default: ${DEFAULT-VALUE}")
    public int connectTimeout;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "longest pause without data during a download. Default: ${DEFAULT-VALUE}")
    public int idleTimeout;

    @Option(names = "--download-timeout", paramLabel = "SECONDS", defaultValue = "1800",
            description = "longest a whole download may take. Default: ${DEFAULT-VALUE}")
    public int downloadTimeout;

    @Option(names = "--concurrent-downloads", paramLabel = "N", defaultValue = "2",
            description = "versions fetched and unpacked at once. Default: ${DEFAULT-VALUE}")
    public int concurrentDownloads;

    @Option(names = "--artifact-ca", paramLabel = "FILE",
            description = "PEM CA certificates trusted for https artifacts instead of the JVM's (private repository)")
    public Path artifactCa;

    @Option(names = "--artifact-file-roots", paramLabel = "DIR", split = ",",
            description = "directories file:// artifacts may come from (regular files only, symlinks resolved);"
                    + " without it every file:// artifact is refused")
    public List<Path> artifactFileRoots = new ArrayList<>();

    /** The settings these flags describe, for an agent whose sandbox root is {@code root}. */
    public PreparerSettings settings(Path root) {
        PreparerSettings d = PreparerSettings.defaults(root);
        return new PreparerSettings(root, cacheDir, maxArchiveMb << 20, maxUnpackedMb << 20, maxEntries,
                Duration.ofSeconds(connectTimeout), Duration.ofSeconds(idleTimeout),
                Duration.ofSeconds(downloadTimeout), d.maxRedirects(), concurrentDownloads, artifactCa,
                artifactFileRoots);
    }
}
