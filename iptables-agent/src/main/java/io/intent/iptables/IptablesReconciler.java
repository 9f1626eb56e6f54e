package io.intent.iptables;

import io.intent.store.converge.AgentRuntime;
import io.intent.store.converge.Reconciler;
import io.intent.store.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * The iptables agent's reconciler. The chain is applied whole, so a reconcile of one app does not touch the
 * kernel itself: it asks {@link ChainSync} for a pass (changes within the debounce window share one) and
 * reports what the latest pass did for that app. A pass that already read the app's current value and is
 * recent answers at once, so a resync of many apps costs one pass. With IPv6 on, a second sync keeps the
 * same chain in ip6tables and an app is ready when both are.
 */
public final class IptablesReconciler implements Reconciler<Assignment>, AutoCloseable {
    /** The agent's name in status keys. */
    public static final String AGENT = "iptables";
    private static final Duration PASS_TIMEOUT = Duration.ofMinutes(3);

    private final ChainSync sync;
    private final ChainSync sync6;
    private final ChainSync docker;
    private final long freshNanos;

    /** @param sync6 the IPv6 sync, or null when IPv6 is off */
    public IptablesReconciler(ChainSync sync, ChainSync sync6, Duration fresh) {
        this(sync, sync6, null, fresh);
    }

    /**
     * @param sync6  the IPv6 sync, or null when IPv6 is off
     * @param docker the sync of the docker chain (hooked into DOCKER-USER), or null
     */
    public IptablesReconciler(ChainSync sync, ChainSync sync6, ChainSync docker, Duration fresh) {
        this.sync = sync;
        this.sync6 = sync6;
        this.docker = docker;
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
        String slice = ctx.store().keys().assignSlice(ctx.host());
        Callable<DesiredSlice> source = () -> DesiredSlice.of(slice, ctx.store().list(slice, Assignment.class));
        Path root = ctx.options().rootDir();
        ChainSync v4 = new ChainSync(settings.chain(), false, settings.createBackend(root), source,
                settings.debounce());
        ChainSync v6 = settings.ipv6() ? new ChainSync(settings.chain(), true, settings.createBackend6(root), source,
                settings.debounce()) : null;
        ChainSync dock = new ChainSync(settings.dockerChain(), ChainRenderer.DOCKER_HOOK, false,
                settings.createDockerBackend(root), source, settings.debounce());
        register(ctx.metrics(), v4, "ipv4");
        register(ctx.metrics(), dock, "docker");
        if (v6 != null) {
            register(ctx.metrics(), v6, "ipv6");
        }
        // the first pass creates the chain and its jump even before any app is assigned
        v4.request();
        dock.request();
        if (v6 != null) {
            v6.request();
        }
        return new IptablesReconciler(v4, v6, dock, settings.fresh());
    }

    private static void register(MeterRegistry metrics, ChainSync sync, String family) {
        FunctionCounter.builder("intent_iptables_writes_total", sync.backend(), ChainBackend::writes)
                .description("atomic writes of the chain (iptables-restore calls or rules file replacements)")
                .tag("family", family).register(metrics);
        FunctionCounter.builder("intent_iptables_passes_total", sync, ChainSync::passes)
                .description("sync passes (read, compare, write if different)").tag("family", family)
                .register(metrics);
        Gauge.builder("intent_iptables_rules", sync, s -> s.latest() == null || s.latest().rules() == null ? 0
                        : s.latest().rules().rules().size())
                .description("rules in the chain after the last pass").tag("family", family).register(metrics);
    }

    @Override
    public String agent() {
        return AGENT;
    }

    @Override
    public Result reconcile(String name, Entry<Assignment> desired) throws Exception {
        long modRevision = desired == null ? -1 : desired.modRevision();
        List<ChainSync> syncs = syncs();
        // ask every table first, so their passes run at the same time; then collect them
        Map<ChainSync, Long> tickets = new HashMap<>();
        for (ChainSync s : syncs) {
            SyncPass pass = s.latest();
            if (pass == null || !pass.covers(name, modRevision, System.nanoTime(), freshNanos)) {
                tickets.put(s, s.request());
            }
        }
        List<SyncPass> passes = new ArrayList<>();
        for (ChainSync s : syncs) {
            Long ticket = tickets.get(s);
            passes.add(ticket == null ? s.latest() : s.await(ticket, PASS_TIMEOUT));
        }
        Result r = combine(name, passes.get(0), sync6 == null ? null : passes.get(1));
        return docker == null ? r : withDocker(name, r, passes.get(passes.size() - 1));
    }

    /** The status {@code r} of the INPUT chain(s), failed when the docker chain failed, else counting its rules. */
    static Result withDocker(String app, Result r, SyncPass docker) {
        Result rd = docker.resultFor(app);
        if (r.phase() == Phase.FAILED) {
            return r;
        }
        if (rd.phase() == Phase.FAILED) {
            return rd;
        }
        if (r.removal() != rd.removal()) {
            // the passes read the slice at different moments; look again rather than report half
            return Result.waiting(r.version(), r.observedRevision(), "INPUT and DOCKER-USER passes disagree; retrying");
        }
        if (r.removal() || r.phase() != Phase.READY) {
            return r;
        }
        int n = (Integer) rd.details().get("rules");
        if (n == 0) {
            return r;
        }
        Map<String, Object> details = new HashMap<>(r.details());
        details.put("dockerRules", n);
        return Result.ready(r.version(), r.observedRevision(), r.message() + " (" + n + " in "
                + docker.rules().chain() + ")", details);
    }

    /** One app's status from the IPv4 pass and, when IPv6 is on, the IPv6 pass. */
    static Result combine(String app, SyncPass v4, SyncPass v6) {
        Result r4 = v4.resultFor(app);
        if (v6 == null) {
            return r4;
        }
        Result r6 = v6.resultFor(app);
        if (r4.phase() == Phase.FAILED || r4.removal() && r6.removal()) {
            return r4;
        }
        if (r6.phase() == Phase.FAILED) {
            return r6;
        }
        if (r4.removal() != r6.removal()) {
            // the two passes read the slice at different moments; look again rather than report half
            return Result.waiting(r4.version(), r4.observedRevision(), "IPv4 and IPv6 passes disagree; retrying");
        }
        int n6 = (Integer) r6.details().get("rules");
        Map<String, Object> details = new HashMap<>(r4.details());
        details.put("rules6", n6);
        return Result.ready(r4.version(), r4.observedRevision(), r4.message() + " (IPv6: " + n6 + ")", details);
    }

    /**
     * The apps that have rules in the chain, so a resync also removes rules whose removal it never saw. It
     * also asks for a pass (which the resync's reconciles then share), so drift is repaired even on a host
     * with no apps at all.
     */
    @Override
    public Set<String> actualNames() throws Exception {
        Set<String> names = new TreeSet<>();
        for (ChainSync s : syncs()) {
            s.request();
            names.addAll(s.backend().read(s.chain(), s.hook()).apps());
        }
        return names;
    }

    private List<ChainSync> syncs() {
        List<ChainSync> all = new ArrayList<>(List.of(sync));
        if (sync6 != null) {
            all.add(sync6);
        }
        if (docker != null) {
            all.add(docker);
        }
        return all;
    }

    /** The IPv4 sync. */
    public ChainSync sync() {
        return sync;
    }

    /** The IPv6 sync, or null when IPv6 is off. */
    public ChainSync sync6() {
        return sync6;
    }

    @Override
    public void close() {
        syncs().forEach(ChainSync::close);
    }
}
