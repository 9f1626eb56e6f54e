package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real separate JVM running a main class on this test's classpath, so a test can SIGKILL, SIGSTOP or
 * SIGTERM it like an operator (or the kernel) would. Output goes to a log file the test can read.
 */
public final class JvmProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private JvmProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static JvmProcess start(Class<?> main, List<String> args, Map<String, String> env, Path log) {
        return start(List.of(), main.getName(), args, env, log);
    }

    /**
     * Starts {@code mainClass} behind a command prefix, e.g. {@code ip netns exec NS} to run a simulated host
     * in its own network namespace ({@code ip netns exec} execs in place, so the pid is the JVM's).
     */
    public static JvmProcess start(List<String> prefix, String mainClass, List<String> args, Map<String, String> env,
                                   Path log) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xss512k");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        try {
            Files.createDirectories(log.getParent());
            JvmProcess p = new JvmProcess(pb.start(), log);
            Runtime.getRuntime().addShutdownHook(new Thread(p.process::destroyForcibly));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL, and wait until it is gone. */
    public void kill9() {
        process.destroyForcibly();
        waitFor(10);
    }

    /** SIGTERM, and wait up to {@code seconds} for a graceful exit. */
    public boolean terminate(int seconds) {
        process.destroy();
        return waitFor(seconds);
    }

    public void pause() {
        EtcdCluster.signal(pid(), "STOP");
    }

    public void resume() {
        EtcdCluster.signal(pid(), "CONT");
    }

    public boolean waitFor(int seconds) {
        try {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public int exitCode() {
        return process.exitValue();
    }

    /** The process's output so far. */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            waitFor(10);
        }
    }
}
