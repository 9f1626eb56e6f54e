package io.intent.iptables;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one of intent's chains (in one table family) equal to a whole assignment slice, one pass at a time: a pass
 * renders the chain, reads what the backend has of it and writes only if they differ: one atomic write, or none.
 * When passes run is the converge kit's business (its whole-slice mode, {@link IptablesReconciler}).
 */
public final class ChainSync implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChainSync.class);

    private final String chain;
    private final String hook;
    private final boolean ipv6;
    private final ChainBackend backend;
    private final ExecutorService reader;
    private final AtomicLong passes = new AtomicLong();
    private volatile SyncPass latest;

    public ChainSync(String chain, ChainBackend backend) {
        this(chain, false, backend);
    }

    /** A sync of the IPv6 table ({@code ipv6}, with an ip6tables backend) or the IPv4 one. */
    public ChainSync(String chain, boolean ipv6, ChainBackend backend) {
        this(chain, ChainRenderer.HOOK, ipv6, backend);
    }

    /**
     * A sync of the chain jumped to from {@code hook}: {@code INPUT} (app ports), or {@code DOCKER-USER} (the
     * sources of published docker ports, {@link ChainRenderer#renderDocker}; IPv4 only).
     */
    public ChainSync(String chain, String hook, boolean ipv6, ChainBackend backend) {
        this.chain = ChainRenderer.requireChain(chain);
        if (!hook.equals(ChainRenderer.HOOK) && !hook.equals(ChainRenderer.DOCKER_HOOK)) {
            throw new IllegalArgumentException("hook " + hook + " is not INPUT or DOCKER-USER");
        }
        this.hook = hook;
        this.ipv6 = ipv6;
        this.backend = backend;
        this.reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, (ipv6 ? "ip6tables" : "iptables") + "-read" + (docker() ? "-docker" : ""));
            t.setDaemon(true);
            return t;
        });
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

    /** The latest completed pass, or null before the first. */
    public SyncPass latest() {
        return latest;
    }

    /** How many passes have completed. */
    public long passes() {
        return passes.get();
    }

    /**
     * One pass, now, on the caller's thread: render {@code slice}, read the backend, write if different. Never
     * throws: a failure is part of the pass, and nothing is written after a failed read.
     */
    public SyncPass sync(DesiredSlice slice) {
        SyncPass pass = pass(slice);
        latest = pass;
        passes.incrementAndGet();
        return pass;
    }

    private SyncPass pass(DesiredSlice slice) {
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
            return new SyncPass(slice, rules, false, why);
        }
        Set<String> keep = new HashSet<>(rules.rejected().keySet());
        keep.addAll(slice.undecodable().keySet());
        rules = rules.keeping(keep, actual);
        if (actual.matches(rules)) {
            return new SyncPass(slice, rules, false, null);
        }
        try {
            backend.write(rules, actual);
        } catch (IptablesException e) {
            log.warn("iptables: {}", e.getMessage());
            return new SyncPass(slice, rules, true, e.getMessage());
        }
        log.info("iptables: {} now holds {} rules for {} apps ({})", chain, rules.rules().size(),
                rules.byApp().size(), backend.describe());
        return new SyncPass(slice, rules, true, null);
    }

    /** Stops the kernel reader thread; a pass in progress finishes. */
    @Override
    public void close() {
        reader.shutdown();
    }
}
