package io.intent.preparer;

import io.intent.store.model.VersionSpec;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

/**
 * Unpacks tar, tar.gz and zip artifacts into an empty directory through a {@link ConfinedTree}, so no entry
 * can write outside it, and refuses device files, FIFOs and other special entries.
 */
final class Unpacker {
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;

    private final long maxBytes;
    private final int maxEntries;

    Unpacker(long maxBytes, int maxEntries) {
        this.maxBytes = maxBytes;
        this.maxEntries = maxEntries;
    }

    /**
     * Unpacks {@code archive} into {@code dest}, handing each regular file to {@code onFile} once written;
     * returns the directories created, for fsync.
     */
    List<Path> unpack(Path archive, String format, Path dest, java.util.function.Consumer<Path> onFile)
            throws IOException, PrepareException {
        if (format.equals(VersionSpec.ZIP)) {
            ConfinedTree tree = new ConfinedTree(dest, maxBytes, maxEntries, onFile);
            try {
                zip(archive, tree);
            } catch (ZipException | java.io.EOFException | IllegalArgumentException e) {
                throw new PrepareException("archive is corrupt (zip): " + e.getMessage(), e);
            }
            tree.checkLinks();
            return tree.dirs();
        }
        try (InputStream in = Files.newInputStream(archive)) {
            return unpack(in, format, dest, onFile);
        }
    }

    /** Whether {@link #unpack(InputStream, String, Path, java.util.function.Consumer)} can take this format. */
    static boolean streamable(String format) {
        return format.equals(VersionSpec.TAR) || format.equals(VersionSpec.TAR_GZ);
    }

    /** Unpacks a tar or tar.gz stream (zip needs random access: use the path variant). */
    List<Path> unpack(InputStream raw, String format, Path dest, java.util.function.Consumer<Path> onFile)
            throws IOException, PrepareException {
        ConfinedTree tree = new ConfinedTree(dest, maxBytes, maxEntries, onFile);
        try {
            switch (format) {
                case VersionSpec.TAR -> tar(new BufferedInputStream(raw, 1 << 16), tree);
                case VersionSpec.TAR_GZ -> {
                    try (InputStream in = InflateAhead.of(raw)) {
                        tar(in, tree);
                    }
                }
                default -> throw new PrepareException("cannot unpack format '" + format + "'");
            }
        } catch (ZipException | java.io.EOFException | IllegalArgumentException e) {
            // commons-compress reports malformed headers with IllegalArgumentException
            throw new PrepareException("archive is corrupt (" + format + "): " + e.getMessage(), e);
        } catch (IOException e) {
            if (e.getCause() instanceof ZipException || e.getCause() instanceof java.io.EOFException) {
                // raised on the inflating thread, handed over by the pipe
                throw new PrepareException("archive is corrupt (" + format + "): " + e.getMessage(), e);
            }
            throw e;
        }
        tree.checkLinks();
        return tree.dirs();
    }

    private static void tar(InputStream in, ConfinedTree tree) throws IOException, PrepareException {
        TarArchiveInputStream tin = new TarArchiveInputStream(in);
        TarArchiveEntry e;
        boolean any = false;
        while ((e = tin.getNextEntry()) != null) {
            any = true;
            String name = e.getName();
            if (e.isCharacterDevice() || e.isBlockDevice()) {
                throw new UnsafeArchiveException("entry '" + ConfinedTree.printable(name) + "' is a device file");
            } else if (e.isFIFO()) {
                throw new UnsafeArchiveException("entry '" + ConfinedTree.printable(name) + "' is a FIFO");
            } else if (e.isSymbolicLink()) {
                tree.symlink(name, e.getLinkName());
            } else if (e.isLink()) {
                tree.hardlink(name, e.getLinkName());
            } else if (e.isDirectory()) {
                tree.dir(name, e.getMode());
            } else if (e.isFile()) {
                tree.file(name, e.getMode(), tin, e.getModTime().getTime());
            } else {
                throw new UnsafeArchiveException("entry '" + ConfinedTree.printable(name)
                        + "' has unsupported type '" + (char) e.getLinkFlag() + "'");
            }
        }
        if (!any) {
            throw new PrepareException("archive holds no entries (is it really a tar?)");
        }
    }

    private static void zip(Path archive, ConfinedTree tree) throws IOException, PrepareException {
        try (ZipFile zf = ZipFile.builder().setPath(archive).get()) {
            Enumeration<ZipArchiveEntry> en = zf.getEntriesInPhysicalOrder();
            while (en.hasMoreElements()) {
                ZipArchiveEntry e = en.nextElement();
                String name = e.getName();
                int mode = e.getUnixMode();
                int type = mode & S_IFMT;
                if (e.isUnixSymlink()) {
                    if (e.getSize() > 4096 || e.getCompressedSize() > 4096) {
                        throw new UnsafeArchiveException("symlink '" + ConfinedTree.printable(name)
                                + "' has an implausibly long target (" + e.getSize() + " bytes)");
                    }
                    tree.symlink(name, zf.getUnixSymlink(e));
                } else if (e.isDirectory() || type == S_IFDIR) {
                    tree.dir(name, mode == 0 ? 0755 : mode);
                } else if (type != 0 && type != S_IFREG) {
                    throw new UnsafeArchiveException("entry '" + ConfinedTree.printable(name)
                            + "' is a special file (mode " + Integer.toOctalString(mode) + ")");
                } else {
                    if (!zf.canReadEntryData(e)) {
                        throw new PrepareException("zip entry '" + ConfinedTree.printable(name)
                                + "' uses an unsupported compression or encryption");
                    }
                    try (InputStream in = zf.getInputStream(e)) {
                        tree.file(name, mode == 0 ? 0644 : mode, in, e.getTime());
                    }
                }
            }
        }
    }
}
