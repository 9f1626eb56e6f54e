package io.intent.setlive;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure a {@code runsvdir} supervises setlive's services dir: in production setlive adopts the one
 * {@code etc/systemd/intent-runsvdir.service} runs ({@link Mode#EXTERNAL}); in tests and local dev it starts its
 * own when none runs ({@link Mode#AUTO}), in a new session ({@code setsid}) so it and the apps outlive the agent
 * process, with its pid in {@code setlive/runsvdir.pid}.
 */
public final class Runsvdir {
    private static final Logger log = LoggerFactory.getLogger(Runsvdir.class);

    /** Whether setlive may start a runsvdir itself ({@code --runsvdir}). */
    public enum Mode {
        /** Adopt the runsvdir the host's supervisor unit runs; never start one (production). */
        EXTERNAL,
        /** Adopt a running one, else start one (dev, tests, the demo: no unit exists there). */
        AUTO;

        /** The mode a flag value names: {@code external} or {@code auto}. */
        public static Mode parse(String value) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(value)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("--runsvdir must be external or auto, not '" + value + "'");
        }
    }

    private Runsvdir() {
    }

    /** The pid of the runsvdir supervising {@code services}, starting one when none does ({@link Mode#AUTO}). */
    public static long ensure(Path services, Path stateDir) throws IOException {
        return ensure(services, stateDir, Mode.AUTO);
    }

    /**
     * The pid of the runsvdir supervising {@code services}. When none does, {@link Mode#AUTO} starts one and
     * {@link Mode#EXTERNAL} fails, naming the unit that should run it.
     */
    public static synchronized long ensure(Path services, Path stateDir, Mode mode) throws IOException {
        Files.createDirectories(services);
        Optional<Long> found = find(services, stateDir);
        if (found.isPresent()) {
            return found.get();
        }
        if (mode == Mode.EXTERNAL) {
            throw new IOException("no runsvdir supervises " + services + " and --runsvdir=external never starts one:"
                    + " start the host's supervisor (systemctl enable --now intent-runsvdir, which runs runsvdir -P "
                    + services + ")");
        }
        Files.createDirectories(stateDir);
        Process p = new ProcessBuilder("setsid", "runsvdir", "-P", services.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(stateDir.resolve("runsvdir.log").toFile()))
                .start();
        long pid = p.pid();
        // setsid execs in place (we are no group leader), so the child is runsvdir itself; make sure
        for (int i = 0; i < 50 && !supervises(pid, services); i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!supervises(pid, services)) {
            pid = scan(services).orElseThrow(() -> new IOException("started runsvdir on " + services
                    + " but cannot find it; see " + stateDir.resolve("runsvdir.log")));
        }
        writePid(stateDir, pid);
        // setsid leaves the cgroup: under a systemd unit this runsvdir, and every app, dies with the agent's unit
        log.warn("started runsvdir (pid {}) on {} myself (--runsvdir=auto): it stays in this process's cgroup, so "
                + "stopping a systemd unit running this agent stops every app; on real hosts run "
                + "intent-runsvdir.service and --runsvdir=external", pid, services);
        return pid;
    }

    /** The pid of a runsvdir already supervising {@code services}: the recorded one, else any found in /proc. */
    public static Optional<Long> find(Path services, Path stateDir) throws IOException {
        Path pidFile = stateDir.resolve("runsvdir.pid");
        if (Files.isRegularFile(pidFile)) {
            try {
                long pid = Long.parseLong(Files.readString(pidFile).strip());
                if (supervises(pid, services)) {
                    return Optional.of(pid);
                }
            } catch (NumberFormatException e) {
                log.warn("ignoring unreadable {}", pidFile);
            }
        }
        Optional<Long> scanned = scan(services);
        if (scanned.isPresent()) {
            writePid(stateDir, scanned.get());
        }
        return scanned;
    }

    /**
     * Stops every app under {@code services}, lets their runsv exit and stops the runsvdir: what a test or the
     * local demo does when it is done. Production never calls it: apps outlive the agent.
     */
    public static synchronized void shutdown(Path services, Path stateDir, Duration stopTimeout)
            throws IOException {
        Optional<Long> pid = find(services, stateDir);
        if (pid.isPresent()) {
            // first the supervisor, so it restarts no runsv we stop below
            ProcessHandle.of(pid.get()).ifPresent(Runsvdir::terminate);
        }
        if (Files.isDirectory(services)) {
            try (var s = Files.list(services)) {
                for (Path dir : s.filter(Files::isDirectory).toList()) {
                    try {
                        if (Sv.supervised(dir)) {
                            Sv.down(dir, stopTimeout);
                            Sv.exit(dir);
                        }
                    } catch (IOException | InterruptedException e) {
                        log.warn("stopping {} failed: {}", dir, e.toString());
                    }
                    // whatever still runs there (a runsv that would not exit, its app) is killed
                    Sv.Status st = Sv.status(dir);
                    if (st.pid() > 0) {
                        ProcessHandle.of(st.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            }
        }
        Path dir = Files.isDirectory(services) ? services.toRealPath() : services.toAbsolutePath().normalize();
        ProcessHandle.allProcesses().filter(h -> h.info().command().orElse("").endsWith("/runsv")).forEach(h -> {
            try {
                Path cwd = Path.of("/proc", Long.toString(h.pid()), "cwd").toRealPath();
                if (cwd.startsWith(dir)) {
                    terminate(h);
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        });
        Files.deleteIfExists(stateDir.resolve("runsvdir.pid"));
    }

    private static void terminate(ProcessHandle h) {
        h.destroy();
        try {
            h.onExit().get(3, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            h.destroyForcibly();
        }
    }

    private static void writePid(Path stateDir, long pid) throws IOException {
        Files.createDirectories(stateDir);
        Path tmp = stateDir.resolve(".runsvdir.pid.tmp");
        Files.writeString(tmp, pid + "\n");
        Files.move(tmp, stateDir.resolve("runsvdir.pid"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static Optional<Long> scan(Path services) {
        File[] procs = new File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
        if (procs == null) {
            return Optional.empty();
        }
        for (File f : procs) {
            long pid = Long.parseLong(f.getName());
            if (supervises(pid, services)) {
                return Optional.of(pid);
            }
        }
        return Optional.empty();
    }

    /** True when {@code pid} is a live runsvdir whose service dir is {@code services}. */
    static boolean supervises(long pid, Path services) {
        List<String> argv = cmdline(pid);
        if (argv.isEmpty() || !Path.of(argv.get(0)).getFileName().toString().equals("runsvdir")) {
            return false;
        }
        String dir = services.toAbsolutePath().normalize().toString();
        for (String a : argv.subList(1, argv.size())) {
            if (!a.startsWith("-")) {
                // runsvdir's first non-option argument is its dir; a zombie has an empty cmdline
                return Path.of(a).toAbsolutePath().normalize().toString().equals(dir);
            }
        }
        return false;
    }

    private static List<String> cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            List<String> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }
}
