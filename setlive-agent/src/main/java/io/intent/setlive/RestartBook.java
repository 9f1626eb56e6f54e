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
 * Each app's {@link RestartRecord} (liveness restarts, crash-loop backoff, recent failures), one file per app
 * under {@code <root>/setlive/restarts/}, cached in memory. Files are replaced by rename(2), so a {@code kill -9}
 * of the agent leaves the old or the new record whole, and a restarted agent keeps backing off where it was.
 */
final class RestartBook {
    private static final Logger log = LoggerFactory.getLogger(RestartBook.class);

    private final Path dir;
    private final Map<String, RestartRecord> cache = new ConcurrentHashMap<>();

    RestartBook(Path stateDir) {
        this.dir = stateDir.resolve("restarts");
    }

    RestartRecord get(String app) {
        return cache.computeIfAbsent(app, this::read);
    }

    /** Stores {@code r} (nothing is written when it equals what is stored). */
    void put(String app, RestartRecord r) throws IOException {
        if (r.equals(get(app))) {
            return;
        }
        if (r.equals(RestartRecord.EMPTY)) {
            remove(app);
            return;
        }
        Files.createDirectories(dir);
        // no fsync, as for pending switches: it has to survive the agent's death, not the machine's
        AtomicFiles.writeAtomically(file(app), Json.write(r), false);
        cache.put(app, r);
    }

    void remove(String app) throws IOException {
        Files.deleteIfExists(file(app));
        cache.put(app, RestartRecord.EMPTY);
    }

    private RestartRecord read(String app) {
        Path f = file(app);
        if (!Files.isRegularFile(f)) {
            return RestartRecord.EMPTY;
        }
        try {
            return Optional.ofNullable(Json.read(Files.readAllBytes(f), RestartRecord.class))
                    .orElse(RestartRecord.EMPTY);
        } catch (IOException | InvalidValueException e) {
            // an unreadable record only costs the backoff: start counting afresh
            log.warn("{}: restart record {} unreadable ({}); starting afresh", app, f, e.getMessage());
            return RestartRecord.EMPTY;
        }
    }

    private Path file(String app) {
        return dir.resolve(app + ".json");
    }
}
