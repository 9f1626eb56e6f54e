package io.intent.setlive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Reads what svlogd keeps of a runit app's output: the last lines (across rotated files) and, when following,
 * what is written after them, across rotations: the open {@code current} is read to its end before the new one is
 * opened, so a rotation loses no byte. Following ends when {@code alive} turns false (the instance left the host)
 * and what was written up to then has been sent.
 */
public final class RunitLogReader {
    private static final int CHUNK = 64 * 1024;
    private final Path dir;
    private final Duration poll;

    public RunitLogReader(Path logDir, Duration poll) {
        this.dir = logDir;
        this.poll = poll;
    }

    /** Whether svlogd has ever written this app's logs here. */
    public boolean exists() {
        return Files.isDirectory(dir);
    }

    /** Sends the last {@code tail} lines, then (if {@code follow}) everything written after them until ended. */
    public void stream(int tail, boolean follow, BooleanSupplier alive, LogSink sink)
            throws IOException, InterruptedException {
        FileChannel cur = openCurrent();
        try {
            long start = cur == null ? 0 : cur.size();
            if (tail > 0 && !sendTail(tail, cur, start, sink)) {
                return;
            }
            if (!follow) {
                return;
            }
            long pos = start;
            Object key = cur == null ? null : fileKey(cur);
            byte[] buf = new byte[CHUNK];
            while (true) {
                boolean ending = !alive.getAsBoolean();
                int n = cur == null ? -1 : cur.read(ByteBuffer.wrap(buf), pos);
                if (n > 0) {
                    pos += n;
                    if (!sink.write(buf, n)) {
                        return;
                    }
                    continue;
                }
                // at the end of the open file: svlogd may have rotated it (renamed, and made a new current)
                Object now = currentKey();
                if (now != null && !now.equals(key)) {
                    if (cur != null) {
                        cur.close();
                    }
                    cur = openCurrent();
                    key = cur == null ? null : fileKey(cur);
                    pos = 0;
                    continue;
                }
                if (ending) {
                    return;
                }
                Thread.sleep(poll.toMillis());
            }
        } finally {
            if (cur != null) {
                cur.close();
            }
        }
    }

    private boolean sendTail(int tail, FileChannel cur, long curSize, LogSink sink)
            throws IOException, InterruptedException {
        // newest first: current up to where following starts, then the rotated files, until enough lines
        List<byte[]> parts = new ArrayList<>();
        int lines = 0;
        if (cur != null) {
            byte[] b = new byte[(int) Math.min(curSize, Integer.MAX_VALUE - 16)];
            cur.read(ByteBuffer.wrap(b), 0);
            parts.add(b);
            lines += count(b);
        }
        List<Path> rotated = rotated();
        for (int i = rotated.size() - 1; i >= 0 && lines < tail; i--) {
            try {
                byte[] b = Files.readAllBytes(rotated.get(i));
                parts.add(b);
                lines += count(b);
            } catch (NoSuchFileException e) {
                // svlogd deleted it meanwhile (beyond its count)
            }
        }
        int skip = Math.max(0, lines - tail);
        for (int i = parts.size() - 1; i >= 0; i--) {
            byte[] b = parts.get(i);
            int from = 0;
            while (skip > 0 && from < b.length) {
                int nl = indexOf(b, from);
                if (nl < 0) {
                    from = b.length;
                    break;
                }
                from = nl + 1;
                skip--;
            }
            if (from < b.length) {
                byte[] rest = java.util.Arrays.copyOfRange(b, from, b.length);
                if (!sink.write(rest, rest.length)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** svlogd's rotated files ({@code @<tai64n>.s}, {@code .u}), oldest first: their names sort by time. */
    private List<Path> rotated() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("@") && (n.endsWith(".s") || n.endsWith(".u"));
            }).sorted().toList();
        }
    }

    /** The open current file and its key (the same before and after opening, so it is the file opened). */
    private Object openedKey;

    private FileChannel openCurrent() throws IOException {
        for (int i = 0; i < 100; i++) {
            Object before = currentKey();
            FileChannel ch;
            try {
                ch = FileChannel.open(dir.resolve("current"), StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                return null;
            }
            Object after = currentKey();
            if (before != null && before.equals(after)) {
                openedKey = after;
                return ch;
            }
            // svlogd rotated while we opened: open again
            ch.close();
        }
        throw new IOException("cannot open " + dir.resolve("current") + ": it keeps being rotated");
    }

    private Object currentKey() throws IOException {
        try {
            return Files.readAttributes(dir.resolve("current"), BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private Object fileKey(FileChannel ch) {
        return openedKey;
    }

    private static int count(byte[] b) {
        int n = 0;
        for (byte x : b) {
            if (x == '\n') {
                n++;
            }
        }
        return n;
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
