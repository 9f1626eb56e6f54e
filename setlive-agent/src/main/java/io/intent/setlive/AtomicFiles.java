package io.intent.setlive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/** setlive's file writes: every file is written under a temp name and renamed into place, so none is ever half there. */
final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes {@code content} to {@code target} by rename(2) from a temp file beside it. */
    static void writeAtomically(Path target, byte[] content, boolean executable) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + random());
        try {
            Files.write(tmp, content);
            if (executable) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Deletes {@code dir} and everything under it; no-op when absent. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A random hex suffix for temp names. */
    static String random() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong());
    }
}
