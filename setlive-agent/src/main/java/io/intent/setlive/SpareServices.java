package io.intent.setlive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Service dirs that runsvdir already supervises, kept ready so a new app starts at once instead of after
 * runsvdir's next directory scan (every 5 s, plus a second when the dir changed within the current second).
 * runsvdir knows a service by its directory's inode, not its name, and runsv works in its dir by inode too: a
 * spare ({@code services/_spare-<hex>}, with a {@code down} file, so nothing runs) renamed to
 * {@code services/<app>} is the same service to both, already supervised. {@code _} keeps spares out of the app
 * names; a dot name would hide them from runsvdir.
 */
final class SpareServices {
    static final String PREFIX = "_spare-";
    /** Spares kept ready by default: a first deploy of one app, or a few at once, never waits for a scan. */
    static final int BASE = 4;
    /** The most spares ever kept (each is one idle runsv of ~0.3 MB). */
    static final int MAX = 32;
    private static final String PLACEHOLDER = "#!/bin/sh\n# a spare service dir setlive keeps ready (runsvdir already"
            + " supervises it); it is renamed to an app's name and given its run script before it is ever started\n"
            + "exec sleep 3600\n";

    private final Path services;
    /** Grows when a start finds no supervised spare (a burst): the next scan then brings enough for the rest. */
    private volatile int target = BASE;

    SpareServices(Path services) {
        this.services = services;
    }

    /**
     * Claims a supervised, stopped spare and makes it {@code dir} (rename(2)) after {@code fill} wrote the app's
     * files into it; empty when none is ready. Tops the pool up either way.
     */
    synchronized Optional<Path> claim(Path dir, Filler fill) throws IOException {
        Optional<Path> got = Optional.empty();
        for (Path spare : list()) {
            // a spare from before log services has no log/ that its runsv knows of: never claimed
            if (!Files.isDirectory(spare.resolve("log")) || !Sv.supervised(spare) || Sv.status(spare).up()) {
                continue;
            }
            fill.write(spare);
            try {
                Files.move(spare, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                throw new IOException(dir + " appeared while a spare was claimed for it", e);
            }
            got = Optional.of(dir);
            break;
        }
        if (got.isEmpty()) {
            target = Math.min(MAX, target * 2);
        }
        refill();
        return got;
    }

    /** Creates spares until {@link #target} exist (supervised or not yet): each appears whole, by rename. */
    synchronized void refill() throws IOException {
        Files.createDirectories(services);
        int missing = target - list().size();
        for (int i = 0; i < missing; i++) {
            String id = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
            Path tmp = services.resolve(".spare-new-" + id);
            // runsv looks for log/ only when it starts: a spare has its log service already, held down (its pipe
            // is made), and its run script is written when the spare is claimed
            Files.createDirectories(tmp.resolve("log"));
            AtomicFiles.writeAtomically(tmp.resolve("log").resolve("run"), PLACEHOLDER.getBytes(StandardCharsets.UTF_8),
                    true);
            Files.createFile(tmp.resolve("log").resolve("down"));
            AtomicFiles.writeAtomically(tmp.resolve("run"), PLACEHOLDER.getBytes(StandardCharsets.UTF_8), true);
            Files.createFile(tmp.resolve("down"));
            Files.move(tmp, services.resolve(PREFIX + id), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The spares there are, supervised or not. */
    List<Path> list() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(services)) {
            return out;
        }
        try (Stream<Path> s = Files.list(services)) {
            s.filter(p -> p.getFileName().toString().startsWith(PREFIX)).forEach(out::add);
        } catch (NoSuchFileException e) {
            // gone meanwhile
        }
        return out;
    }

    int target() {
        return target;
    }

    /** Writes an app's files into a spare before it takes the app's name. */
    @FunctionalInterface
    interface Filler {
        void write(Path spare) throws IOException;
    }

    /** Deletes what a crash may have left of a spare being made (dot names: runsvdir never saw them). */
    static void sweepUnfinished(Path services) throws IOException {
        if (!Files.isDirectory(services)) {
            return;
        }
        try (Stream<Path> s = Files.list(services)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".spare-new-")).toList()) {
                AtomicFiles.deleteTree(p);
            }
        }
    }
}
