package io.intent.setlive;

import io.intent.agent.InstallLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Swaps {@code apps/<app>/current} atomically: a new relative symlink under a temp name, then rename(2) over the
 * old one, so a reader (or a crash) sees the old target or the new one, never a missing or half-made link.
 */
public final class CurrentLink {
    private CurrentLink() {
    }

    /** Points {@code current} at {@code installs/<app>/<version>}; a no-op when it already does. */
    public static void point(InstallLayout layout, String app, String version) throws IOException {
        Path link = layout.current(app);
        Path target = link.getParent().relativize(layout.install(app, version));
        if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target)) {
            return;
        }
        Files.createDirectories(link.getParent());
        Path tmp = link.resolveSibling(".current-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.createSymbolicLink(tmp, target);
        try {
            Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Removes {@code current} and, when nothing else is left, the app's directory (and stray temp links). */
    public static void remove(InstallLayout layout, String app) throws IOException {
        Path dir = layout.appDir(app);
        if (!Files.isDirectory(dir)) {
            return;
        }
        Files.deleteIfExists(layout.current(app));
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().startsWith(".current-")) {
                    Files.deleteIfExists(p);
                }
            }
        }
        try (var s = Files.list(dir)) {
            if (s.findAny().isEmpty()) {
                Files.delete(dir);
            }
        }
    }
}
