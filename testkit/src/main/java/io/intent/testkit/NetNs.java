package io.intent.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh, uniquely named Linux network namespace ({@code ip netns add}), so tests and benchmarks can use the
 * real iptables without ever touching the machine's own tables. Commands run inside it through
 * {@link #prefix()} ({@code ip netns exec NAME}); {@link #close()} deletes it, and with it every rule made in it.
 */
public final class NetNs implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();

    /** What one command printed and how it exited. */
    public record Output(int exit, String stdout, String stderr) {
        public boolean ok() {
            return exit == 0;
        }
    }

    private final String name;
    private final Thread cleanup;
    private boolean closed;

    private NetNs(String name) {
        this.name = name;
        // A test JVM killed by Maven still removes its namespaces when it exits normally or is interrupted.
        this.cleanup = new Thread(this::delete, "netns-cleanup-" + name);
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Creates a new namespace named {@code intent-<pid>-<n>} with its loopback up.
     *
     * @throws AssertionError when not root or {@code ip} (Debian iproute2) is missing, saying how to fix it
     */
    public static NetNs create() {
        Prerequisites.requireRoot("a network namespace (ip netns add)");
        Prerequisites.require("ip", "iproute2");
        String name = "intent-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
        Output add = run(List.of("ip", "netns", "add", name), null, 30);
        if (!add.ok()) {
            throw new AssertionError("ip netns add " + name + " failed (exit " + add.exit() + "): "
                    + add.stderr().strip());
        }
        NetNs ns = new NetNs(name);
        ns.execOk("ip", "link", "set", "lo", "up");
        return ns;
    }

    public String name() {
        return name;
    }

    /** The command prefix that runs a command inside this namespace: {@code ip netns exec NAME}. */
    public List<String> prefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** {@link #prefix()} as one space-separated string, for a {@code --command-prefix} flag. */
    public String prefixString() {
        return String.join(" ", prefix());
    }

    /** Runs {@code command} inside the namespace and returns what it printed, whatever its exit code. */
    public Output exec(String... command) {
        return execWithInput(null, command);
    }

    /** Runs {@code command} inside the namespace with {@code stdin} as its input. */
    public Output execWithInput(String stdin, String... command) {
        List<String> cmd = new ArrayList<>(prefix());
        cmd.addAll(List.of(command));
        return run(cmd, stdin, 300);
    }

    /** Runs {@code command} inside the namespace and returns its stdout; fails with its stderr otherwise. */
    public String execOk(String... command) {
        Output out = exec(command);
        if (!out.ok()) {
            throw new AssertionError(String.join(" ", command) + " in netns " + name + " failed (exit "
                    + out.exit() + "): " + out.stderr().strip());
        }
        return out.stdout();
    }

    static Output run(List<String> cmd, String stdin, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(cmd).start();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s");
            }
            return new Output(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + String.join(" ", cmd), e);
        }
    }

    // Each stream gets its own thread: the common pool may have a single thread on 2 cores, and reading stdout
    // and stderr one after the other deadlocks when the other pipe fills up.
    private static CompletableFuture<String> drain(InputStream s) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (s) {
                f.complete(new String(s.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.complete("");
            }
        }, "netns-drain");
        t.setDaemon(true);
        t.start();
        return f;
    }

    private synchronized void delete() {
        if (closed) {
            return;
        }
        closed = true;
        run(List.of("ip", "netns", "del", name), null, 30);
    }

    /** Deletes the namespace and everything in it. */
    @Override
    public void close() {
        delete();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs (and finds the namespace gone)
        }
    }
}
