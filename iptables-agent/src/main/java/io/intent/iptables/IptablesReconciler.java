package io.intent.iptables;

import io.intent.store.converge.AgentRuntime;
import io.intent.store.converge.Reconciler;
import io.intent.store.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.model.Assignment;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * The iptables agent's reconciler. The chain is applied whole, so a reconcile of one app does not touch the
 * kernel itself: it asks {@link ChainSync} for a pass (changes within the debounce window share one) and
 * reports what the latest pass did for that app. A pass that already read the app's current value and is
 * recent answers at once, so a resync of many apps costs one pass.
 */
public final class IptablesReconciler implements Reconciler<Assignment>, AutoCloseable {
    /** The agent's name in status keys. */
    public static final String AGENT = "iptables";
    private static final Duration PASS_TIMEOUT = Duration.ofMinutes(3);

    private final ChainSync sync;
    private final long freshNanos;

    public IptablesReconciler(ChainSync sync, Duration fresh) {
        this.sync = sync;
        this.freshNanos = fresh.toNanos();
    }

    /**
     * The agent as the converge kit runs it (for {@link AgentRuntime#start}, also used by the node launcher):
     * the backend from {@code settings}, the desired chain from the host's assignment slice in etcd.
     */
    public static Function<AgentRuntime.Context, Reconciler<Assignment>> factory(IptablesSettings settings) {
        return ctx -> create(ctx, settings);
    }

    /** Builds the reconciler for one host; see {@link #factory}. */
    public static IptablesReconciler create(AgentRuntime.Context ctx, IptablesSettings settings) {
        ChainBackend backend = settings.createBackend(ctx.options().rootDir());
        String slice = ctx.store().keys().assignSlice(ctx.host());
        Callable<DesiredSlice> source = () -> DesiredSlice.of(slice, ctx.store().list(slice, Assignment.class));
        ChainSync sync = new ChainSync(settings.chain(), backend, source, settings.debounce());
        FunctionCounter.builder("intent_iptables_writes_total", backend, ChainBackend::writes)
                .description("atomic writes of the chain (iptables-restore calls or rules file replacements)")
                .register(ctx.metrics());
        FunctionCounter.builder("intent_iptables_passes_total", sync, ChainSync::passes)
                .description("sync passes (read, compare, write if different)").register(ctx.metrics());
        Gauge.builder("intent_iptables_rules", sync, s -> s.latest() == null || s.latest().rules() == null ? 0
                        : s.latest().rules().rules().size())
                .description("rules in the chain after the last pass").register(ctx.metrics());
        return new IptablesReconciler(sync, settings.fresh());
    }

    @Override
    public String agent() {
        return AGENT;
    }

    @Override
    public Result reconcile(String name, Entry<Assignment> desired) throws Exception {
        long modRevision = desired == null ? -1 : desired.modRevision();
        SyncPass pass = sync.latest();
        if (pass == null || !pass.covers(name, modRevision, System.nanoTime(), freshNanos)) {
            pass = sync.await(sync.request(), PASS_TIMEOUT);
        }
        return pass.resultFor(name);
    }

    /** The apps that have rules in the chain, so a resync also removes rules whose removal it never saw. */
    @Override
    public Set<String> actualNames() throws Exception {
        return sync.backend().read(sync.chain()).apps();
    }

    public ChainSync sync() {
        return sync;
    }

    @Override
    public void close() {
        sync.close();
    }
}
