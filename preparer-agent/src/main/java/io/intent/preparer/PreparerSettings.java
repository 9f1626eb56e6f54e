package io.intent.preparer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The preparer's tunables: where installs and the download cache live, and the limits that keep a hostile
 * or broken artifact from filling the disk or hanging a download forever.
 *
 * @param root                the host's sandbox root ({@link io.intent.agent.InstallLayout})
 * @param cacheDir            download cache, keyed by sha256; must be on the same filesystem as the root
 * @param maxArchiveBytes     largest artifact accepted (download size)
 * @param maxUnpackedBytes    largest total size an archive may expand to (archive bombs)
 * @param maxEntries          most entries an archive may hold
 * @param connectTimeout      TCP connect and wait for response headers
 * @param idleTimeout         longest pause without a byte while a download streams
 * @param downloadTimeout     longest a whole download may take
 * @param maxRedirects        redirects followed before giving up
 * @param concurrentDownloads versions fetched (and unpacked) at the same time, over all apps
 * @param artifactCa          PEM file of the CA certificates trusted for https artifacts instead of the JVM's
 *                            (a private artifact repository); null for the JVM's default trust store
 * @param artifactFileRoots   directories {@code file://} artifacts may come from (after resolving symlinks);
 *                            empty: every {@code file://} artifact is refused
 */
public record PreparerSettings(Path root, Path cacheDir, long maxArchiveBytes, long maxUnpackedBytes,
                               int maxEntries, Duration connectTimeout, Duration idleTimeout,
                               Duration downloadTimeout, int maxRedirects, int concurrentDownloads,
                               Path artifactCa, List<Path> artifactFileRoots) {

    public PreparerSettings {
        root = root.toAbsolutePath().normalize();
        cacheDir = cacheDir == null ? root.resolve("cache") : cacheDir.toAbsolutePath().normalize();
        if (maxArchiveBytes <= 0 || maxUnpackedBytes <= 0 || maxEntries <= 0 || concurrentDownloads <= 0
                || maxRedirects < 0) {
            throw new IllegalArgumentException("preparer limits must be positive");
        }
        artifactFileRoots = artifactFileRoots == null ? List.of()
                : artifactFileRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    /** Production defaults under {@code root}: 2 GiB artifacts, 8 GiB unpacked, 100k entries, 2 downloads. */
    public static PreparerSettings defaults(Path root) {
        return new PreparerSettings(root, null, 2L << 30, 8L << 30, 100_000, Duration.ofSeconds(10),
                Duration.ofSeconds(30), Duration.ofMinutes(30), 5, 2, null, List.of());
    }

    public PreparerSettings withLimits(long archiveBytes, long unpackedBytes, int entries) {
        return new PreparerSettings(root, cacheDir, archiveBytes, unpackedBytes, entries, connectTimeout,
                idleTimeout, downloadTimeout, maxRedirects, concurrentDownloads, artifactCa, artifactFileRoots);
    }

    public PreparerSettings withTimeouts(Duration connect, Duration idle, Duration download) {
        return new PreparerSettings(root, cacheDir, maxArchiveBytes, maxUnpackedBytes, maxEntries, connect, idle,
                download, maxRedirects, concurrentDownloads, artifactCa, artifactFileRoots);
    }

    public PreparerSettings withConcurrentDownloads(int n) {
        return new PreparerSettings(root, cacheDir, maxArchiveBytes, maxUnpackedBytes, maxEntries, connectTimeout,
                idleTimeout, downloadTimeout, maxRedirects, n, artifactCa, artifactFileRoots);
    }

    public PreparerSettings withCacheDir(Path dir) {
        return new PreparerSettings(root, dir, maxArchiveBytes, maxUnpackedBytes, maxEntries, connectTimeout,
                idleTimeout, downloadTimeout, maxRedirects, concurrentDownloads, artifactCa, artifactFileRoots);
    }

    public PreparerSettings withArtifactCa(Path pem) {
        return new PreparerSettings(root, cacheDir, maxArchiveBytes, maxUnpackedBytes, maxEntries, connectTimeout,
                idleTimeout, downloadTimeout, maxRedirects, concurrentDownloads, pem, artifactFileRoots);
    }

    /** These settings with {@code file://} artifacts allowed from {@code roots} only. */
    public PreparerSettings withArtifactFileRoots(List<Path> roots) {
        return new PreparerSettings(root, cacheDir, maxArchiveBytes, maxUnpackedBytes, maxEntries, connectTimeout,
                idleTimeout, downloadTimeout, maxRedirects, concurrentDownloads, artifactCa, roots);
    }
}
