package io.intent.iptables;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps intent's chain equal to the host's whole assignment slice. A pass reads the slice, renders the chain,
 * reads what the backend has of it and writes only if they differ: one atomic write, or none. Requests that
 * arrive within the debounce window share one pass, so a burst of changes makes one apply; the passes run
 * one at a time on their own thread.
 */
public final class ChainSync implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChainSync.class);

    private final String chain;
    private final String hook;
    private final boolean ipv6;
    private final ChainBackend backend;
    private final Callable<DesiredSlice> source;
    private final Duration debounce;
    private final Thread loop;
    private final ExecutorService reader;
    private long requested;
    private long started;
    private SyncPass latest;
    private long passes;
    private boolean closed;

    /**
     * @param source   reads the host's whole slice (from etcd, in the agent)
     * @param debounce how long a pass waits after the first request, to gather the ones that follow
     */
    public ChainSync(String chain, ChainBackend backend, Callable<DesiredSlice> source, Duration debounce) {
        this(chain, false, backend, source, debounce);
    }

    /** A sync of the IPv6 table ({@code ipv6}, with an ip6tables backend) or the IPv4 one. */
    public ChainSync(String chain, boolean ipv6, ChainBackend backend, Callable<DesiredSlice> source,
                     Duration debounce) {
        this(chain, ChainRenderer.HOOK, ipv6, backend, source, debounce);
    }

    /**
     * A sync of the chain jumped to from {@code hook}: {@code INPUT} (app ports), or {@code DOCKER-USER} (the
     * sources of published docker ports, {@link ChainRenderer#renderDocker}; IPv4 only).
     */
    public ChainSync(String chain, String hook, boolean ipv6, ChainBackend backend, Callable<DesiredSlice> source,
                     Duration debounce) {
        this.chain = ChainRenderer.requireChain(chain);
        if (!hook.equals(ChainRenderer.HOOK) && !hook.equals(ChainRenderer.DOCKER_HOOK)) {
            throw new IllegalArgumentException("hook " + hook + " is not INPUT or DOCKER-USER");
        }
        this.hook = hook;
        this.ipv6 = ipv6;
        this.backend = backend;
        this.source = source;
        this.debounce = debounce;
        this.reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "iptables-read");
            t.setDaemon(true);
            return t;
        });
        this.loop = new Thread(this::run, (ipv6 ? "ip6tables-sync" : "iptables-sync") + (docker() ? "-docker" : ""));
        this.loop.setDaemon(true);
        this.loop.start();
    }

    public String chain() {
        return chain;
    }

    public boolean ipv6() {
        return ipv6;
    }

    /** The chain that jumps to ours. */
    public String hook() {
        return hook;
    }

    private boolean docker() {
        return hook.equals(ChainRenderer.DOCKER_HOOK);
    }

    public ChainBackend backend() {
        return backend;
    }

    /** Asks for a pass that reads everything after this call; returns the ticket to {@link #await} it. */
    public synchronized long request() {
        requested++;
        notifyAll();
        return requested;
    }

    /** Waits for the first pass that answers {@code ticket}. */
    public synchronized SyncPass await(long ticket, Duration timeout) throws InterruptedException,
            TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (latest == null || latest.ticket() < ticket) {
            long left = deadline - System.nanoTime();
            if (closed) {
                throw new IllegalStateException("iptables sync is closed");
            }
            if (left <= 0) {
                throw new TimeoutException("no iptables pass within " + timeout.toSeconds() + " s");
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return latest;
    }

    /** The latest completed pass, or null before the first. */
    public synchronized SyncPass latest() {
        return latest;
    }

    /** How many passes have completed. */
    public synchronized long passes() {
        return passes;
    }

    private void run() {
        while (true) {
            long ticket;
            try {
                synchronized (this) {
                    while (!closed && requested == started) {
                        wait();
                    }
                    if (closed) {
                        return;
                    }
                }
                Thread.sleep(debounce.toMillis());
                synchronized (this) {
                    ticket = requested;
                    started = ticket;
                }
            } catch (InterruptedException e) {
                return;
            }
            SyncPass pass;
            try {
                pass = syncOnce(ticket);
            } catch (RuntimeException e) {
                // a bug must not kill the only pass thread: every reconcile would then wait in vain
                log.error("iptables: sync pass failed", e);
                pass = new SyncPass(ticket, null, null, false, "sync pass failed: " + e, System.nanoTime());
            }
            synchronized (this) {
                latest = pass;
                passes++;
                notifyAll();
            }
        }
    }

    /**
     * One pass, now, on the caller's thread: read the slice, render, read the backend, write if different.
     * Never throws: a failure is part of the pass, and nothing is written after a failed read.
     */
    public SyncPass syncOnce(long ticket) {
        DesiredSlice slice;
        try {
            slice = source.call();
        } catch (Exception e) {
            String why = "cannot read the assignments: " + e.getMessage();
            log.warn("iptables: {}; the chain is left as it is", why);
            return new SyncPass(ticket, null, null, false, why, System.nanoTime());
        }
        // Reading the kernel is a separate process: render while it runs, so a pass costs about the larger of
        // the two instead of their sum.
        CompletableFuture<ChainState> reading = CompletableFuture.supplyAsync(() -> {
            try {
                return backend.read(chain, hook);
            } catch (IptablesException e) {
                throw new CompletionException(e);
            }
        }, reader);
        ChainRules rules = docker() ? ChainRenderer.renderDocker(chain, slice.assignments())
                : ChainRenderer.render(chain, slice.assignments(), ipv6);
        ChainState actual;
        try {
            actual = reading.join();
        } catch (CompletionException e) {
            String why = e.getCause() instanceof IptablesException ie ? ie.getMessage() : String.valueOf(e.getCause());
            log.warn("iptables: {}", why);
            return new SyncPass(ticket, slice, rules, false, why, System.nanoTime());
        }
        Set<String> keep = new HashSet<>(rules.rejected().keySet());
        keep.addAll(slice.undecodable().keySet());
        rules = rules.keeping(keep, actual);
        if (actual.matches(rules)) {
            return new SyncPass(ticket, slice, rules, false, null, System.nanoTime());
        }
        try {
            backend.write(rules, actual);
        } catch (IptablesException e) {
            log.warn("iptables: {}", e.getMessage());
            return new SyncPass(ticket, slice, rules, true, e.getMessage(), System.nanoTime());
        }
        log.info("iptables: {} now holds {} rules for {} apps ({})", chain, rules.rules().size(),
                rules.byApp().size(), backend.describe());
        return new SyncPass(ticket, slice, rules, true, null, System.nanoTime());
    }

    /** Stops the pass thread; a pass in progress finishes. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            loop.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reader.shutdown();
    }
}
