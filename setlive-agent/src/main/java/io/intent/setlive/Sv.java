package io.intent.setlive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * runit's control surface for one service dir, spoken directly (as {@code sv} does, without its process spawn
 * and 420 ms status polling): one-letter commands into runsv's {@code supervise/control} fifo, state from its
 * binary {@code supervise/status} record, and "is a runsv there" from the flock runsv holds on
 * {@code supervise/lock} (listed in /proc/locks).
 */
final class Sv {
    /** TAI64 label of the Unix epoch, as runsv writes it (2^62 + 10 leap seconds). */
    private static final long TAI_EPOCH = 4611686018427387914L;

    /** What runsv says about its service. */
    record Status(boolean up, boolean wantUp, long pid, Instant since) {
        static final Status DOWN = new Status(false, false, 0, Instant.EPOCH);
    }

    private Sv() {
    }

    /** The runsv last found supervising a dir, and that dir's real path (runsv's cwd). */
    private record Runsv(long pid, Path realDir) {
    }

    private static final Map<Path, Runsv> KNOWN = new ConcurrentHashMap<>();

    /**
     * True when a live runsv supervises {@code dir}. The first look finds the process holding the flock on
     * {@code supervise/lock} in /proc/locks (a few ms: the kernel renders every lock of the machine); later looks
     * only check that this runsv still lives there (one readlink of its cwd).
     */
    static boolean supervised(Path dir) throws IOException {
        Runsv known = KNOWN.get(dir);
        if (known != null && livesIn(known.pid(), known.realDir())) {
            return true;
        }
        KNOWN.remove(dir);
        Path lock = dir.resolve("supervise/lock");
        Object ino;
        try {
            ino = Files.getAttribute(lock, "unix:ino");
        } catch (NoSuchFileException e) {
            return false;
        }
        String needle = ":" + ino + " ";
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            // "1: FLOCK  ADVISORY  WRITE 26954 fe:00:2146311 0 EOF"
            int at = line.indexOf(needle);
            if (at < 0 || !line.contains(" FLOCK ")) {
                continue;
            }
            int devStart = line.lastIndexOf(' ', at) + 1;
            int pidStart = line.lastIndexOf(' ', devStart - 2) + 1;
            try {
                long pid = Long.parseLong(line.substring(pidStart, devStart - 1).trim());
                Path real = dir.toRealPath();
                if (livesIn(pid, real)) {
                    KNOWN.put(dir, new Runsv(pid, real));
                    return true;
                }
            } catch (NumberFormatException | IOException e) {
                // a line of another shape, or the dir vanished: not supervised by what we found
            }
        }
        return false;
    }

    private static boolean livesIn(long pid, Path realDir) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")).equals(realDir);
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until a runsv supervises {@code dir} (runsvdir finds new dirs within seconds). */
    static boolean awaitSupervised(Path dir, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!supervised(dir)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Reads {@code supervise/status}; DOWN when runsv never ran here. */
    static Status status(Path dir) throws IOException {
        byte[] b;
        try {
            b = Files.readAllBytes(dir.resolve("supervise/status"));
        } catch (NoSuchFileException e) {
            return Status.DOWN;
        }
        if (b.length < 20) {
            return Status.DOWN;
        }
        long tai = ByteBuffer.wrap(b).getLong(0);
        long pid = Integer.toUnsignedLong(ByteBuffer.wrap(b, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        boolean wantUp = b[17] == 'u';
        boolean running = b[19] == 1 && pid > 0;
        return new Status(running, wantUp, running ? pid : 0, Instant.ofEpochSecond(tai - TAI_EPOCH));
    }

    /**
     * Sends runsv one-letter commands ({@code u} up, {@code d} down, {@code k} kill, {@code x} exit).
     * runsv takes its lock before it makes the {@code control} fifo, so a fresh runsv may not have it yet: wait
     * for the fifo, and never create the file (a regular file there would cut runsv off for good).
     */
    static void control(Path dir, String commands) throws IOException {
        control(dir, dir.resolve("supervise/control"), commands);
    }

    /** {@code sv up} of the service's log service ({@code dir/log}), which the service's own runsv supervises. */
    static void upLog(Path dir) throws IOException {
        control(dir, dir.resolve("log/supervise/control"), "u");
    }

    private static void control(Path dir, Path fifo, String commands) throws IOException {
        if (!supervised(dir)) {
            throw new IOException("no runsv supervises " + dir + " (is runsvdir running?)");
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        while (true) {
            java.nio.file.attribute.BasicFileAttributes a = null;
            try {
                a = Files.readAttributes(fifo, java.nio.file.attribute.BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                // runsv has not made it yet
            }
            if (a != null && a.isOther()) {
                break;
            }
            if (a != null) {
                // not a fifo (left by an older agent that created it): remove it and let runsvdir start a
                // fresh runsv, which makes the fifo
                Files.deleteIfExists(fifo);
                Runsv known = KNOWN.remove(dir);
                if (known != null) {
                    ProcessHandle.of(known.pid()).ifPresent(ProcessHandle::destroy);
                }
                throw new IOException(fifo + " was not a fifo; removed it and restarted runsv");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("runsv in " + dir + " made no control fifo within 5 s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + fifo);
            }
        }
        // O_RDWR without O_CREAT: never blocks on Linux, never creates
        try (var ch = java.nio.channels.FileChannel.open(fifo, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(commands.getBytes(StandardCharsets.US_ASCII)));
        }
    }

    /** {@code sv up}. */
    static void up(Path dir) throws IOException {
        control(dir, "u");
    }

    /**
     * {@code sv down}, then waits (polling runsv's status every few ms) until runsv wants the service down and it
     * is down; after {@code timeout}, SIGKILL and wait again.
     */
    static void down(Path dir, Duration timeout) throws IOException, InterruptedException {
        control(dir, "d");
        if (awaitDown(dir, timeout)) {
            return;
        }
        control(dir, "k");
        if (!awaitDown(dir, Duration.ofSeconds(5))) {
            throw new IOException("app under " + dir + " did not stop, not even after SIGKILL");
        }
    }

    private static boolean awaitDown(Path dir, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Status s = status(dir);
            // a crash-looping service handles the 'd' only after runsv's 1 s restart pause: wait for want-down too
            if (!s.up() && !s.wantUp()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
    }

    /** {@code sv exit}: runsv exits once its service is down. No-op when no runsv is there. */
    static void exit(Path dir) throws IOException {
        if (supervised(dir)) {
            control(dir, "x");
        }
    }
}
