package io.intent.preparer;

import io.intent.store.codec.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The images this preparer put into the engine (loaded or pulled), in {@code state/preparer-images.json}, so
 * garbage collection removes only those and never an image an operator had before. An id is recorded
 * before the load, so a crash cannot leave a loaded image the ledger does not know.
 */
final class ImageLedger {
    /** The file's content. */
    record Content(List<String> images) {
    }

    private final Path file;
    private final Set<String> images = new TreeSet<>();

    ImageLedger(Path file) throws IOException {
        this.file = file;
        if (Files.isRegularFile(file)) {
            try {
                Content c = Json.read(Files.readAllBytes(file), Content.class);
                if (c.images() != null) {
                    images.addAll(c.images());
                }
            } catch (RuntimeException e) {
                throw new IOException("image ledger " + file + " is unreadable: " + e.getMessage(), e);
            }
        }
    }

    synchronized Set<String> all() {
        return Set.copyOf(images);
    }

    synchronized boolean contains(String id) {
        return images.contains(id);
    }

    synchronized void add(String id) throws IOException {
        if (images.add(id)) {
            save();
        }
    }

    synchronized void remove(String id) throws IOException {
        if (images.remove(id)) {
            save();
        }
    }

    private void save() throws IOException {
        Durable.writeAtomically(file, Json.write(new Content(List.copyOf(images))));
    }
}
