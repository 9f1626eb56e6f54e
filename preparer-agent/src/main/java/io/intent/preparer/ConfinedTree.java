package io.intent.preparer;

import io.intent.agent.InstallLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A directory that archive entries are written into, which no entry can leave. The rules:
 * <ul>
 *   <li>entry names are relative, without {@code ..} components and without NUL; {@code ./} is ignored;</li>
 *   <li>nothing is ever written through a symbolic link: every parent of an entry must be a real directory
 *       created or checked here;</li>
 *   <li>symbolic links are allowed when their target, resolved from where the link sits and following the
 *       other links of the tree, stays inside the tree at every step (absolute targets are refused);</li>
 *   <li>hard links may only point at a regular file already written to the tree;</li>
 *   <li>total bytes and entry count are bounded, so an archive bomb stops early;</li>
 *   <li>modes keep their rwx bits (exec bits survive), lose setuid/setgid/sticky, and always keep the
 *       owner's rw (rwx for directories) so the install can be removed again;</li>
 *   <li>the top-level name of the install marker is reserved.</li>
 * </ul>
 */
// About 300 lines on purpose: every rule above guards the same state (the real directories made here, the links
// written, the byte and entry counts), and each write method checks it; split apart, a rule would sit away from
// the state it relies on, which is how confinement bugs start.
final class ConfinedTree {
    private final Path root;
    private final long maxBytes;
    private final int maxEntries;
    private final Set<Path> dirs = new HashSet<>();
    private final List<Path> links = new ArrayList<>();
    private final java.util.function.Consumer<Path> onFile;
    private final byte[] buf = new byte[1 << 16];
    private long bytes;
    private int entries;

    ConfinedTree(Path root, long maxBytes, int maxEntries, java.util.function.Consumer<Path> onFile)
            throws IOException {
        this.root = root.toRealPath();
        this.onFile = onFile;
        this.maxBytes = maxBytes;
        this.maxEntries = maxEntries;
        dirs.add(this.root);
    }

    Path root() {
        return root;
    }

    long bytes() {
        return bytes;
    }

    /** Every directory created, for fsync once all entries are in (files are handed to onFile as written). */
    List<Path> dirs() {
        return new ArrayList<>(dirs);
    }

    /** The entry's path inside the tree; refuses absolute names, {@code ..} and the marker's name. */
    Path resolve(String name) throws UnsafeArchiveException {
        List<String> parts = components(name);
        if (parts.size() == 1 && parts.get(0).equals(InstallLayout.MARKER)) {
            throw new UnsafeArchiveException("entry '" + printable(name) + "' uses the name reserved for the "
                    + "install marker");
        }
        Path p = root;
        for (String c : parts) {
            p = p.resolve(c);
        }
        return p;
    }

    static List<String> components(String name) throws UnsafeArchiveException {
        if (name == null || name.indexOf('\0') >= 0) {
            throw new UnsafeArchiveException("entry name contains NUL");
        }
        if (name.startsWith("/")) {
            throw new UnsafeArchiveException("entry '" + printable(name) + "' has an absolute path");
        }
        List<String> parts = new ArrayList<>();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                throw new UnsafeArchiveException("entry '" + printable(name) + "' escapes with '..'");
            }
            parts.add(c);
        }
        return parts;
    }

    private void count(String name) throws UnsafeArchiveException {
        if (++entries > maxEntries) {
            throw new UnsafeArchiveException("archive has more than " + maxEntries + " entries (at '"
                    + printable(name) + "')");
        }
    }

    void dir(String name, int mode) throws IOException, UnsafeArchiveException {
        count(name);
        Path p = resolve(name);
        if (p.equals(root)) {
            return;
        }
        ensureParents(p, name);
        mkdir(p, name);
        Files.setPosixFilePermissions(p, perms((mode & 0777) | 0700));
    }

    void file(String name, int mode, InputStream in, long mtimeMillis) throws IOException, UnsafeArchiveException {
        count(name);
        Path p = resolve(name);
        if (p.equals(root)) {
            throw new UnsafeArchiveException("file entry '" + printable(name) + "' names the install directory");
        }
        ensureParents(p, name);
        clear(p, name);
        try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                bytes += n;
                if (bytes > maxBytes) {
                    throw new UnsafeArchiveException("archive expands to more than " + maxBytes
                            + " bytes (at '" + printable(name) + "'): refused as an archive bomb");
                }
                out.write(buf, 0, n);
            }
        }
        Files.setPosixFilePermissions(p, perms((mode & 0777) | 0600));
        if (mtimeMillis > 0) {
            Files.setLastModifiedTime(p, FileTime.fromMillis(mtimeMillis));
        }
        onFile.accept(p);
    }

    void symlink(String name, String target) throws IOException, UnsafeArchiveException {
        count(name);
        Path p = resolve(name);
        if (p.equals(root)) {
            throw new UnsafeArchiveException("symlink entry '" + printable(name) + "' names the install directory");
        }
        if (target == null || target.isEmpty() || target.indexOf('\0') >= 0) {
            throw new UnsafeArchiveException("symlink '" + printable(name) + "' has an empty or invalid target");
        }
        if (target.startsWith("/")) {
            throw new UnsafeArchiveException("symlink '" + printable(name) + "' points to the absolute path '"
                    + printable(target) + "'");
        }
        if (!p.getParent().resolve(target).normalize().startsWith(root)) {
            throw new UnsafeArchiveException("symlink '" + printable(name) + "' points outside the install: '"
                    + printable(target) + "'");
        }
        ensureParents(p, name);
        clear(p, name);
        Files.createSymbolicLink(p, Path.of(target));
        links.add(p);
    }

    void hardlink(String name, String targetName) throws IOException, UnsafeArchiveException {
        count(name);
        Path p = resolve(name);
        Path target;
        try {
            target = resolve(targetName);
        } catch (UnsafeArchiveException e) {
            throw new UnsafeArchiveException("hard link '" + printable(name) + "' points outside the install: "
                    + e.getMessage());
        }
        if (!dirs.contains(target.getParent()) || !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new UnsafeArchiveException("hard link '" + printable(name) + "' points to '"
                    + printable(targetName) + "', which is not a file earlier in the archive");
        }
        if (p.equals(root) || p.equals(target)) {
            throw new UnsafeArchiveException("hard link '" + printable(name) + "' is invalid");
        }
        ensureParents(p, name);
        clear(p, name);
        Files.createLink(p, target);
    }

    /**
     * Resolves every symbolic link physically, following links within the tree, and refuses the archive when
     * one leaves the tree at any step: the lexical check at entry time cannot see {@code a -> b/..} where
     * {@code b} is itself a link.
     */
    void checkLinks() throws IOException, UnsafeArchiveException {
        for (Path link : links) {
            if (!Files.isSymbolicLink(link)) {
                continue; // replaced by a later entry
            }
            Path cur = link.getParent();
            Deque<String> todo = new ArrayDeque<>();
            push(todo, Files.readSymbolicLink(link).toString());
            int hops = 0;
            while (!todo.isEmpty()) {
                String c = todo.pop();
                if (c.isEmpty() || c.equals(".")) {
                    continue;
                }
                Path next = c.equals("..") ? cur.getParent() : cur.resolve(c);
                if (next == null || !next.startsWith(root)) {
                    throw new UnsafeArchiveException("symlink '" + root.relativize(link) + "' resolves outside "
                            + "the install");
                }
                if (!c.equals("..") && Files.isSymbolicLink(next)) {
                    if (++hops > 40) {
                        throw new UnsafeArchiveException("symlink '" + root.relativize(link) + "' loops");
                    }
                    String t = Files.readSymbolicLink(next).toString();
                    if (t.startsWith("/")) {
                        throw new UnsafeArchiveException("symlink '" + root.relativize(next) + "' is absolute");
                    }
                    push(todo, t);
                } else {
                    cur = next;
                }
            }
        }
    }

    private static void push(Deque<String> todo, String target) {
        String[] parts = target.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            todo.push(parts[i]);
        }
    }

    /** Creates missing parents as real directories; refuses a parent that is a link or a file. */
    private void ensureParents(Path p, String name) throws IOException, UnsafeArchiveException {
        Path parent = p.getParent();
        if (dirs.contains(parent)) {
            return;
        }
        Path cur = root;
        for (Path c : root.relativize(parent)) {
            cur = cur.resolve(c);
            if (!dirs.contains(cur)) {
                mkdir(cur, name);
                Files.setPosixFilePermissions(cur, perms(0755));
            }
        }
    }

    private void mkdir(Path p, String name) throws IOException, UnsafeArchiveException {
        try {
            Files.createDirectory(p);
        } catch (FileAlreadyExistsException e) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isDirectory()) {
                throw new UnsafeArchiveException("entry '" + printable(name) + "' needs '" + root.relativize(p)
                        + "' to be a directory, but an earlier entry made it a " + (a.isSymbolicLink() ? "symlink"
                        : "file"));
            }
        }
        dirs.add(p);
    }

    /** Removes an earlier entry of the same name (a later entry wins, as with tar), but never a directory. */
    private void clear(Path p, String name) throws IOException, UnsafeArchiveException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (a.isDirectory()) {
            throw new UnsafeArchiveException("entry '" + printable(name) + "' would replace a directory");
        }
        Files.delete(p);
    }

    static Set<PosixFilePermission> perms(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }

    static String printable(String s) {
        if (s == null) {
            return "";
        }
        String t = s.length() > 200 ? s.substring(0, 200) + "…" : s;
        return t.replaceAll("[\\p{Cntrl}]", "?");
    }
}
