package io.intent.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo's child processes (etcd and one JVM per component), each with its log file. Stopping sends
 * SIGTERM to all, waits, then SIGKILLs what is left: Ctrl-C stops everything the demo started.
 */
final class Children {
    /** One started process and what it is. */
    record Child(String name, Process process, Path log) {
    }

    private final List<Child> children = new ArrayList<>();

    synchronized Child add(String name, Process p, Path log) {
        Child c = new Child(name, p, log);
        children.add(c);
        return c;
    }

    /** Starts {@code mainClass} in its own JVM on this JVM's classpath. */
    synchronized Child java(String name, String mainClass, List<String> args, Map<String, String> env, Path log)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        return add(name, pb.start(), log);
    }

    synchronized List<Child> all() {
        return List.copyOf(children);
    }

    /** SIGTERM everything (newest first), wait up to {@code seconds}, then SIGKILL. */
    synchronized void stopAll(int seconds) {
        List<Child> reversed = new ArrayList<>(children);
        java.util.Collections.reverse(reversed);
        for (Child c : reversed) {
            if (c.process().isAlive() && !c.name().equals("etcd")) {
                c.process().destroy();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Child c : reversed) {
            if (c.name().equals("etcd")) {
                continue;
            }
            waitUntil(c, deadline);
        }
        // etcd last, so the others could say goodbye (revoke leases, resign)
        for (Child c : reversed) {
            if (c.name().equals("etcd") && c.process().isAlive()) {
                c.process().destroy();
                waitUntil(c, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            }
        }
    }

    private static void waitUntil(Child c, long deadlineNanos) {
        try {
            long left = Math.max(0, deadlineNanos - System.nanoTime());
            if (!c.process().waitFor(left, TimeUnit.NANOSECONDS)) {
                c.process().destroyForcibly();
                c.process().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.process().destroyForcibly();
        }
    }
}
