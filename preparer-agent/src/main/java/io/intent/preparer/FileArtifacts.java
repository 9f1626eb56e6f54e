package io.intent.preparer;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;

/**
 * Reads {@code file://} artifacts: only regular files inside the allowed roots ({@code --artifact-file-roots}),
 * checked before anything is opened.
 */
final class FileArtifacts {
    private final List<Path> roots;
    private final Duration downloadTimeout;

    FileArtifacts(List<Path> roots, Duration downloadTimeout) {
        this.roots = List.copyOf(roots);
        this.downloadTimeout = downloadTimeout;
    }

    /** Passes the artifact's bytes to {@code sink}, within the download timeout. */
    void copy(URI uri, DownloadSink sink) throws IOException, PrepareException {
        Path src = allowedFile(uri);
        // NOFOLLOW_LINKS: src is already the real path; a symlink swapped in since then is not followed
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            sink.total(in.size());
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            long deadline = System.nanoTime() + downloadTimeout.toNanos();
            while (in.read(buf) >= 0) {
                buf.flip();
                sink.accept(buf);
                buf.clear();
                if (System.nanoTime() > deadline) {
                    throw new PrepareException("reading " + uri + " took longer than " + downloadTimeout);
                }
            }
        } catch (NoSuchFileException e) {
            throw new PrepareException("artifact " + uri + " does not exist");
        }
    }

    /**
     * The real path of a {@code file://} artifact, once it is known to be a regular file inside the allowed
     * roots. Checked before anything is opened: opening a FIFO blocks and a device never ends, and a file
     * outside the roots is never read, so no digest or size of it can be reported.
     */
    Path allowedFile(URI uri) throws IOException, PrepareException {
        if (roots.isEmpty()) {
            throw new PrepareException("artifact " + uri + ": file:// artifacts are refused on this host;"
                    + " allow a directory with --artifact-file-roots");
        }
        Path src;
        try {
            src = Path.of(uri).toAbsolutePath().normalize();
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw new PrepareException("artifact " + uri + ": not a local file URL (" + e.getMessage() + ")");
        }
        String outside = "artifact " + uri + " is outside the allowed file roots " + roots;
        // Lexically first, so nothing (not even whether it exists) is learned about paths outside the roots.
        if (roots.stream().noneMatch(src::startsWith)) {
            throw new PrepareException(outside);
        }
        Path real;
        try {
            real = src.toRealPath();
        } catch (NoSuchFileException e) {
            throw new PrepareException("artifact " + uri + " does not exist");
        }
        boolean inside = false;
        for (Path root : roots) {
            try {
                inside |= real.startsWith(root.toRealPath());
            } catch (NoSuchFileException e) {
                // a configured root that does not exist allows nothing
            }
        }
        if (!inside) {
            throw new PrepareException(outside + " (it resolves elsewhere through a symlink)");
        }
        BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attrs.isRegularFile()) {
            String kind = attrs.isDirectory() ? "a directory" : attrs.isOther() ? "a FIFO, socket or device" : "special";
            throw new PrepareException("artifact " + uri + " is not a regular file (" + kind + "); refused");
        }
        return real;
    }
}
