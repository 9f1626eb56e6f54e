package io.intent.iptables;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The real backend: reads the chain with {@code iptables-save -t filter} and replaces it with one
 * {@code iptables-restore --noflush -w}, whichever iptables the host has (nft or legacy). A command prefix
 * ({@code ip netns exec NS}) runs both inside a network namespace.
 */
public final class KernelBackend implements ChainBackend {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final List<String> prefix;
    private final String iptables;
    private final AtomicLong writes = new AtomicLong();

    /**
     * @param prefix   words put before every command, e.g. {@code [ip, netns, exec, ns1]}; empty for none
     * @param iptables the iptables command family: {@code iptables}, {@code iptables-legacy}, {@code iptables-nft};
     *                 {@code -save} and {@code -restore} are appended
     */
    public KernelBackend(List<String> prefix, String iptables) {
        this.prefix = List.copyOf(prefix);
        this.iptables = iptables;
    }

    @Override
    public ChainState read(String chain, String hook) throws IptablesException {
        Output out = run(List.of(iptables + "-save", "-t", "filter"), null);
        if (out.exit != 0) {
            throw new IptablesException(iptables + "-save failed (exit " + out.exit + "): " + out.stderr.strip());
        }
        return ChainState.parse(chain, hook, out.stdout);
    }

    @Override
    public void write(ChainRules desired, ChainState actual) throws IptablesException {
        Optional<String> script = RestoreScript.between(desired, actual);
        if (script.isPresent()) {
            restore(script.get());
        }
    }

    /** Feeds {@code script} to one {@code iptables-restore --noflush -w}. */
    public void restore(String script) throws IptablesException {
        writes.incrementAndGet();
        Output out = run(List.of(iptables + "-restore", "--noflush", "-w"), script);
        if (out.exit != 0) {
            throw new IptablesException(iptables + "-restore failed (exit " + out.exit + "): " + out.stderr.strip());
        }
    }

    @Override
    public long writes() {
        return writes.get();
    }

    @Override
    public String describe() {
        return iptables + (prefix.isEmpty() ? "" : " via '" + String.join(" ", prefix) + "'");
    }

    private record Output(int exit, String stdout, String stderr) {
    }

    private Output run(List<String> command, String stdin) throws IptablesException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(command);
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new IptablesException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage()
                    + " (is the Debian package iptables installed?)", e);
        }
        try {
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the command exited early; its stderr says why
            }
            if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IptablesException(String.join(" ", cmd) + " did not finish within " + TIMEOUT.toSeconds()
                        + " s");
            }
            return new Output(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IptablesException("interrupted while running " + String.join(" ", cmd), e);
        }
    }

    // One thread per stream: reading stdout then stderr in turn deadlocks when the other pipe fills.
    // testkit's NetNs keeps its own copy on purpose: testkit must not depend on a product agent.
    private static CompletableFuture<String> drain(InputStream s) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (s) {
                f.complete(new String(s.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.complete("");
            }
        }, "iptables-output");
        t.setDaemon(true);
        t.start();
        return f;
    }
}
