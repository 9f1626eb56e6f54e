package io.intent.node;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A cgroup v2 of its own standing in for a systemd service unit: processes started through {@link #prefix()} (and
 * all their children, which inherit the cgroup) are stopped the way systemd stops a unit with
 * {@code KillMode=control-group}: SIGTERM to every process in it, SIGKILL ({@code cgroup.kill}) to what is
 * left after the timeout.
 */
final class CgroupUnit implements AutoCloseable {
    private final Path dir;

    private CgroupUnit(Path dir) {
        this.dir = dir;
    }

    /** A fresh child cgroup of the cgroup v2 hierarchy (unified or hybrid mount); fails saying why when none. */
    static CgroupUnit create(String name) throws IOException {
        Path mount = mount().orElseThrow(() -> new AssertionError("no cgroup v2 hierarchy is mounted (looked for "
                + "type cgroup2 in /proc/mounts): this test needs it to stand in for a systemd unit; on a systemd host "
                + "it is at /sys/fs/cgroup (or /sys/fs/cgroup/unified); elsewhere: mount -t cgroup2 none /sys/fs/cgroup"));
        Path dir = mount.resolve(name + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
        try {
            Files.createDirectory(dir);
        } catch (IOException e) {
            throw new AssertionError("cannot create a cgroup under " + mount + " (" + e + "): run the tests as root "
                    + "with a writable cgroup v2 mount, as ./intent test does", e);
        }
        return new CgroupUnit(dir);
    }

    private static Optional<Path> mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 2 && f[2].equals("cgroup2")) {
                return Optional.of(Path.of(f[1]));
            }
        }
        return Optional.empty();
    }

    /** A command prefix that moves itself into this cgroup and execs the rest (the pid stays the same). */
    List<String> prefix() {
        return List.of("/bin/sh", "-c", "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"", "unit");
    }

    /** The pids in this cgroup now. */
    List<Long> pids() throws IOException {
        return Arrays.stream(Files.readString(dir.resolve("cgroup.procs")).split("\\s+")).filter(s -> !s.isEmpty())
                .map(Long::parseLong).toList();
    }

    /** Stops the "unit" as systemd does: SIGTERM to all, then cgroup.kill after {@code timeout}; waits until empty. */
    void stop(Duration timeout) throws IOException {
        for (long pid : pids()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        }
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(20)).until(() -> pids().isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            kill();
        }
    }

    /** SIGKILL to every process in it at once (a crash of the unit), and waits until empty. */
    void kill() throws IOException {
        if (Files.exists(dir.resolve("cgroup.kill"))) {
            Files.writeString(dir.resolve("cgroup.kill"), "1");
        } else {
            // kernels before 5.14 have no cgroup.kill: SIGKILL each, as systemd does there
            for (long pid : pids()) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> pids().isEmpty());
    }

    @Override
    public void close() throws IOException {
        if (Files.isDirectory(dir)) {
            if (!pids().isEmpty()) {
                kill();
            }
            // a killed process counts until its parent (or init) has reaped it: rmdir is EBUSY until then
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                    .until(() -> {
                        Files.delete(dir);
                        return true;
                    });
        }
    }
}
