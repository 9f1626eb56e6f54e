package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Whether a host has ever had a Docker app: {@code <root>/setlive/docker-used}, written and synced before the
 * host's first container is created. While it is absent no container of the host can exist, so setlive need not
 * ask the engine, and docker-java (some 800 classes) is never loaded on a host whose apps are all processes.
 */
final class DockerUse {
    static final String MARKER = "docker-used";

    private final Path marker;
    private volatile boolean known;

    private DockerUse(Path marker) {
        this.marker = marker;
    }

    /** The marker of {@code layout}'s host; written at once if an install names an image (made before markers). */
    static DockerUse of(InstallLayout layout) {
        DockerUse use = new DockerUse(layout.root().resolve("setlive").resolve(MARKER));
        if (!use.recorded() && hasDockerInstall(layout)) {
            use.record();
        }
        return use;
    }

    /** True once the marker exists; remembered, since the marker is never removed (every Docker call asks). */
    boolean recorded() {
        if (!known && Files.exists(marker)) {
            known = true;
        }
        return known;
    }

    private static boolean hasDockerInstall(InstallLayout layout) {
        if (!Files.isDirectory(layout.installsDir())) {
            return false;
        }
        try (var apps = Files.list(layout.installsDir())) {
            for (Path app : apps.toList()) {
                if (!Files.isDirectory(app) || !Names.valid(app.getFileName().toString())) {
                    continue;
                }
                try (var versions = Files.list(app)) {
                    for (Path v : versions.toList()) {
                        String version = v.getFileName().toString();
                        try {
                            if (layout.completed(app.getFileName().toString(), version)
                                    .map(InstallLayout.Marker::imageId).isPresent()) {
                                return true;
                            }
                        } catch (RuntimeException e) {
                            // not a version dir (a half-made install, a stray file): not a Docker install
                        }
                    }
                }
            }
        } catch (IOException e) {
            // cannot tell: list the engine as before
            return true;
        }
        return false;
    }

    /** Records, durably, that this host runs (or ran) containers; from now on the engine is listed. */
    void record() {
        if (recorded()) {
            return;
        }
        try {
            Files.createDirectories(marker.getParent());
            Path tmp = marker.resolveSibling(MARKER + ".tmp");
            try (var ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.force(true);
            }
            Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE);
            try (var dir = FileChannel.open(marker.getParent())) {
                dir.force(true);
            }
            known = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record Docker use at " + marker, e);
        }
    }
}
