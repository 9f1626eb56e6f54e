package io.intent.preparer;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes installs appear whole or not at all. A version is unpacked into {@code installs/<app>/.tmp-*}, the
 * marker is written last inside it, files and directories are fsynced, and only then is the temp dir
 * renamed to {@code installs/<app>/<version>}. Removal renames first and deletes after, so a crash in the
 * middle of either leaves only a {@code .tmp-*} dir, which the next pass deletes.
 */
final class Installer {
    private static final Logger log = LoggerFactory.getLogger(Installer.class);
    static final String TEMP_PREFIX = ".tmp-";

    private final InstallLayout layout;
    private final Unpacker unpacker;
    private final Set<Path> active = ConcurrentHashMap.newKeySet();

    Installer(InstallLayout layout, Unpacker unpacker) {
        this.layout = layout;
        this.unpacker = unpacker;
    }

    InstallLayout layout() {
        return layout;
    }

    /** Writes an install's content into a directory, handing each file written to {@code onFile}. */
    interface Contents {
        /** Returns the directories it created. */
        List<Path> writeInto(Path dir, java.util.function.Consumer<Path> onFile) throws IOException, PrepareException;
    }

    /** Blocks until the content may be committed; throws when it must not be (its download did not verify). */
    interface Gate {
        void await() throws PrepareException;
    }

    /** Contents of a docker version: nothing but the marker. */
    static final Contents MARKER_ONLY = (dir, onFile) -> List.of(dir);

    /** Contents unpacked from a verified archive file. */
    Contents archive(Path archive, String format) {
        return (dir, onFile) -> unpacker.unpack(archive, format, dir, onFile);
    }

    /** Contents unpacked from a stream still being downloaded; commit only after {@code gate} passes. */
    Contents stream(java.io.InputStream in, String format) {
        return (dir, onFile) -> {
            try (in) {
                return unpacker.unpack(in, format, dir, onFile);
            }
        };
    }

    /**
     * Installs {@code app}/{@code version}: writes {@code contents} into a temp dir, waits for {@code gate},
     * writes the marker recording {@code sha256} and {@code imageId}, fsyncs everything, renames into place.
     */
    InstallLayout.Marker install(String app, String version, String sha256, String imageId, Contents contents,
                                 Gate gate) throws IOException, PrepareException {
        Path appDir = Files.createDirectories(layout.appInstalls(app));
        Path target = layout.install(app, version);
        Path tmp = appDir.resolve(TEMP_PREFIX + version + "-" + UUID.randomUUID());
        active.add(tmp);
        try {
            Files.createDirectory(tmp);
            SyncBatch sync = new SyncBatch();
            List<Path> dirs = contents.writeInto(tmp, sync::submit);
            gate.await();
            InstallLayout.Marker marker = new InstallLayout.Marker(app, version, sha256, imageId, Instant.now());
            Path m = tmp.resolve(InstallLayout.MARKER);
            Files.write(m, Json.write(marker), java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
            sync.submit(m);
            dirs.forEach(sync::submit);
            sync.await();
            commit(tmp, target);
            Durable.fsync(appDir);
            return marker;
        } finally {
            try {
                if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
                    Durable.deleteTree(tmp);
                }
            } finally {
                active.remove(tmp);
            }
        }
    }

    private void commit(Path tmp, Path target) throws IOException {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            // an older install of the same version name (different artifact): move it aside, then replace
            Path old = target.resolveSibling(TEMP_PREFIX + "old-" + target.getFileName() + "-" + UUID.randomUUID());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            Durable.deleteTree(old);
        } else {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Removes an install: rename out of sight first, then delete, so it never looks complete half-deleted. */
    void remove(String app, String version) throws IOException {
        Path target = layout.install(app, version);
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path gone = target.resolveSibling(TEMP_PREFIX + "gc-" + version + "-" + UUID.randomUUID());
        active.add(gone);
        try {
            Files.move(target, gone, StandardCopyOption.ATOMIC_MOVE);
            Durable.fsync(target.getParent());
            Durable.deleteTree(gone);
        } finally {
            active.remove(gone);
        }
    }

    /** Deletes temp dirs of {@code app} that no running work of this process owns: leftovers of a crash. */
    void removeStaleTemps(String app) throws IOException {
        Path appDir = layout.appInstalls(app);
        if (!Files.isDirectory(appDir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(appDir, TEMP_PREFIX + "*")) {
            for (Path p : ds) {
                if (!active.contains(p)) {
                    log.info("removing stale temp dir {}", p);
                    Durable.deleteTree(p);
                }
            }
        }
    }

    /** Version directories of {@code app} on disk (complete or not), excluding temp dirs. */
    Set<String> versionsOnDisk(String app) throws IOException {
        Set<String> out = new TreeSet<>();
        Path appDir = layout.appInstalls(app);
        if (!Files.isDirectory(appDir, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(appDir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.startsWith(TEMP_PREFIX)) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    /** Apps with anything under {@code installs/}. */
    Set<String> appsOnDisk() throws IOException {
        Set<String> out = new TreeSet<>();
        if (!Files.isDirectory(layout.installsDir())) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.installsDir())) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (Names.valid(n)) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    /** Removes {@code installs/<app>/} when nothing is left in it. */
    void removeAppDirIfEmpty(String app) throws IOException {
        Path appDir = layout.appInstalls(app);
        try {
            Files.deleteIfExists(appDir);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            // still holds something (current, a temp dir of running work)
        }
    }
}
