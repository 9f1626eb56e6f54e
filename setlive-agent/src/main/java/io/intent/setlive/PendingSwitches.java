package io.intent.setlive;

import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PendingSwitch}es of this host, one file per app under {@code <root>/setlive/switches/}, cached in
 * memory. Files are replaced by rename(2), so a {@code kill -9} of the agent leaves the old or the new one whole.
 */
final class PendingSwitches {
    private static final Logger log = LoggerFactory.getLogger(PendingSwitches.class);

    private final Path dir;
    /** Apps read from disk already (with or without a pending switch), so a recheck reads no file. */
    private final Map<String, Optional<PendingSwitch>> cache = new ConcurrentHashMap<>();

    PendingSwitches(Path stateDir) {
        this.dir = stateDir.resolve("switches");
    }

    Optional<PendingSwitch> get(String app) {
        return cache.computeIfAbsent(app, this::read);
    }

    void put(String app, PendingSwitch p) throws IOException {
        Files.createDirectories(dir);
        // no fsync: it has to survive the agent's death, not the machine's (after a reboot nothing runs anyway)
        AtomicFiles.writeAtomically(file(app), Json.write(p), false);
        cache.put(app, Optional.of(p));
    }

    void remove(String app) throws IOException {
        Files.deleteIfExists(file(app));
        cache.put(app, Optional.empty());
    }

    private Optional<PendingSwitch> read(String app) {
        Path f = file(app);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.read(Files.readAllBytes(f), PendingSwitch.class));
        } catch (IOException | InvalidValueException e) {
            // an unreadable record only costs the rollback target: the switch is redone from what runs
            log.warn("{}: pending switch {} unreadable ({}); ignoring it", app, f, e.getMessage());
            return Optional.empty();
        }
    }

    private Path file(String app) {
        return dir.resolve(app + ".json");
    }
}
