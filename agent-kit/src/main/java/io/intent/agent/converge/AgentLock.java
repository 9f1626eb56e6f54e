package io.intent.agent.converge;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The per-host, per-agent lock that keeps two copies of one agent from converging the same root at once: an
 * exclusive flock(2) on {@code <root>/.intent-<agent>.lock}, held for the process's life (the kernel drops it
 * when the process dies, kill -9 included) and naming the holder's pid. A daemon takes it before its first
 * reconcile (waiting while a one-shot run holds it); {@code --once} refuses to run while anyone holds it.
 */
public final class AgentLock implements AutoCloseable {
    /** Exit code of {@code --once} when a daemon (or another one-shot run) holds the lock of one of its agents. */
    public static final int HELD_EXIT_CODE = 3;

    /** Thrown when another process holds the lock. */
    public static final class HeldException extends Exception {
        HeldException(String message) {
            super(message);
        }
    }

    private final List<FileChannel> channels;

    private AgentLock(List<FileChannel> channels) {
        this.channels = channels;
    }

    /** The lock file of {@code agent} under {@code root}. */
    public static Path file(Path root, String agent) {
        return root.resolve(".intent-" + agent + ".lock");
    }

    /** Takes every agent's lock, or none: throws naming the file and its holder when one is held. */
    public static AgentLock tryAcquire(Path root, List<String> agents) throws IOException, HeldException {
        return acquire(root, agents, false);
    }

    /** Takes every agent's lock, waiting (calling {@code onWait} once) while another process holds one. */
    public static AgentLock acquire(Path root, List<String> agents, Runnable onWait) throws IOException {
        try {
            return acquire(root, agents, false);
        } catch (HeldException e) {
            onWait.run();
            try {
                return acquire(root, agents, true);
            } catch (HeldException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
    }

    private static AgentLock acquire(Path root, List<String> agents, boolean wait) throws IOException, HeldException {
        Files.createDirectories(root);
        List<FileChannel> taken = new ArrayList<>();
        try {
            // sorted, so two processes that want overlapping sets never wait on each other in a cycle
            for (String agent : new TreeSet<>(agents)) {
                Path f = file(root, agent);
                FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
                FileLock lock = wait ? ch.lock() : ch.tryLock();
                if (lock == null) {
                    String holder = Files.readString(f, StandardCharsets.UTF_8).trim();
                    ch.close();
                    throw new HeldException(agent + " already runs on " + root + " (" + f + " is locked"
                            + (holder.isEmpty() ? "" : " by pid " + holder) + ")");
                }
                ch.truncate(0);
                ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                taken.add(ch);
            }
        } catch (IOException | HeldException | RuntimeException e) {
            closeAll(taken);
            throw e;
        }
        return new AgentLock(taken);
    }

    private static void closeAll(List<FileChannel> channels) {
        for (FileChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException e) {
                // the lock goes with the process anyway
            }
        }
    }

    /** Releases every lock (the files stay: deleting one would let two processes lock two different files). */
    @Override
    public void close() {
        closeAll(channels);
    }
}
