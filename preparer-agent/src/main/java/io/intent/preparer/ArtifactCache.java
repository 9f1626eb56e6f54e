package io.intent.preparer;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloaded artifacts under {@code cache/<sha256>}, shared by every app on the host. An entry appears only
 * by rename after its digest was checked, and is checked again before each reuse (once per process), so a
 * torn file left by a power cut is refetched rather than unpacked.
 */
final class ArtifactCache {
    private static final Logger log = LoggerFactory.getLogger(ArtifactCache.class);
    private static final Pattern SHA = Pattern.compile("[0-9a-f]{64}");
    static final String TEMP_PREFIX = ".tmp-";

    private final Path dir;
    private final Set<String> verified = ConcurrentHashMap.newKeySet();
    private final java.util.Map<String, Integer> inUse = new ConcurrentHashMap<>();

    ArtifactCache(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    Path dir() {
        return dir;
    }

    Path entry(String sha256) {
        if (!SHA.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256: " + sha256);
        }
        return dir.resolve(sha256);
    }

    /** The cached artifact with this digest, verified; a corrupt entry is deleted and reported absent. */
    Optional<Path> lookup(String sha256) throws IOException {
        Path p = entry(sha256);
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        if (verified.contains(sha256)) {
            return Optional.of(p);
        }
        String actual = Sha256.of(p);
        if (!actual.equals(sha256)) {
            log.warn("cache entry {} is corrupt (sha256 {}); deleting it", p, actual);
            Files.deleteIfExists(p);
            return Optional.empty();
        }
        verified.add(sha256);
        return Optional.of(p);
    }

    /** A fresh temp file in the cache directory (same filesystem, so {@link #commit} is a rename). */
    Path newTemp(String sha256) {
        return dir.resolve(TEMP_PREFIX + sha256.substring(0, 12) + "-" + UUID.randomUUID());
    }

    /** Moves a verified temp file into place as the entry for {@code sha256}. */
    Path commit(Path temp, String sha256) throws IOException {
        Path p = entry(sha256);
        Files.move(temp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        verified.add(sha256);
        return p;
    }

    /** Marks a digest as needed by work in progress, so {@link #retainOnly} leaves it alone. */
    void pin(String sha256) {
        inUse.merge(sha256, 1, Integer::sum);
    }

    void unpin(String sha256) {
        inUse.computeIfPresent(sha256, (k, n) -> n > 1 ? n - 1 : null);
    }

    /** Deletes temp files left by a crashed process; call once, before any download starts. */
    void removeStaleTemps() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path p : ds) {
                log.info("removing stale download {}", p.getFileName());
                Files.deleteIfExists(p);
            }
        }
    }

    /** Deletes every entry whose digest is not in {@code keep} and not pinned. */
    int retainOnly(Set<String> keep) throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (SHA.matcher(name).matches() && !keep.contains(name) && !inUse.containsKey(name)) {
                    try {
                        Files.delete(p);
                        verified.remove(name);
                        removed++;
                    } catch (NoSuchFileException e) {
                        // removed concurrently: fine
                    }
                }
            }
        }
        return removed;
    }
}
