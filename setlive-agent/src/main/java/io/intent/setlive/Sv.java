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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * runit's control surface for one service dir: {@code sv} for commands (it speaks runsv's control fifo), and
 * runsv's binary {@code supervise/status} record for reading state without a process spawn.
 */
final class Sv {
    /** TAI64 label of the Unix epoch, as runsv writes it (2^62 + 10 leap seconds). */
    private static final long TAI_EPOCH = 4611686018427387914L;

    /** What runsv says about its service. */
    record Status(boolean up, boolean wantUp, long pid, Instant since) {
        static final Status DOWN = new Status(false, false, 0, Instant.EPOCH);
    }

    /** Output and exit code of one sv call. */
    record Outcome(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    private Sv() {
    }

    /** True when a runsv supervises {@code dir} (sv can reach its control fifo). */
    static boolean supervised(Path dir) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(5), "status", dir.toString()).ok();
    }

    /** Waits until a runsv supervises {@code dir} (runsvdir finds new dirs within seconds). */
    static boolean awaitSupervised(Path dir, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!supervised(dir)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
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
        ByteBuffer buf = ByteBuffer.wrap(b);
        long tai = buf.getLong(0);
        long pid = Integer.toUnsignedLong(ByteBuffer.wrap(b, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        boolean wantUp = b[17] == 'u';
        boolean running = b[19] == 1 && pid > 0;
        return new Status(running, wantUp, running ? pid : 0, Instant.ofEpochSecond(tai - TAI_EPOCH));
    }

    /** {@code sv up}. */
    static void up(Path dir) throws IOException, InterruptedException {
        require(run(Duration.ofSeconds(10), "up", dir.toString()), "sv up " + dir);
    }

    /**
     * {@code sv down}, then waits (polling runsv's status every few ms, not sv's 420 ms) until runsv wants the
     * service down and it is down; after {@code timeout}, {@code sv kill} (SIGKILL) and wait again.
     */
    static void down(Path dir, Duration timeout) throws IOException, InterruptedException {
        require(run(Duration.ofSeconds(5), "down", dir.toString()), "sv down " + dir);
        if (awaitDown(dir, timeout)) {
            return;
        }
        require(run(Duration.ofSeconds(5), "kill", dir.toString()), "sv kill " + dir);
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
            Thread.sleep(5);
        }
    }

    /** {@code sv exit}: runsv exits once its service is down. */
    static void exit(Path dir) throws IOException, InterruptedException {
        run(Duration.ofSeconds(5), "exit", dir.toString());
    }

    private static void require(Outcome o, String what) throws IOException {
        if (!o.ok()) {
            throw new IOException(what + " failed (exit " + o.exit() + "): " + o.output().strip());
        }
    }

    static Outcome run(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("sv");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException("sv " + String.join(" ", args) + " did not finish within " + timeout);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Outcome(p.exitValue(), out);
    }
}
