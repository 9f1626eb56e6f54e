package io.intent.iptables;

import io.intent.agent.converge.AgentRuntime;
import io.intent.agent.converge.Reconciler;
import io.intent.agent.converge.Result;
import io.intent.agent.converge.SliceReconciler;
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
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The iptables agent's reconciler, in the converge kit's whole-slice mode: the chain is applied whole, so each call
 * gets the kit's snapshot of the host's slice (after changes settled for the debounce window, so a burst makes one
 * apply), runs one pass per table (IPv4, IPv6 when on, and the docker chain) at the same time, and returns every
 * app's status from those passes. A pass that cannot read or write its table fails the call: the kit then reports
 * every app FAILED and retries with its backoff. With IPv6 on, an app is ready when both tables are.
 */
public final class IptablesReconciler implements SliceReconciler<Assignment>, AutoCloseable {
    /** The agent's name in status keys. */
    public static final String AGENT = "iptables";

    private final ChainSync sync;
    private final ChainSync sync6;
    private final ChainSync docker;
    private final Duration debounce;
    /** Runs the tables' passes at the same time: each mostly waits on iptables-save and -restore. */
    private final ExecutorService tables = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "iptables-table");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param sync6    the IPv6 sync, or null when IPv6 is off
     * @param docker   the sync of the docker chain (hooked into DOCKER-USER), or null
     * @param debounce how long a change waits for the ones that follow it (the kit's settle time)
     */
    public IptablesReconciler(ChainSync sync, ChainSync sync6, ChainSync docker, Duration debounce) {
        this.sync = sync;
        this.sync6 = sync6;
        this.docker = docker;
        this.debounce = debounce;
    }

    /**
     * The agent as the converge kit runs it (for {@link AgentRuntime#start}, also used by the node launcher):
     * the backends from {@code settings}, the desired chain from the host's slice as the kit holds it.
     */
    public static Function<AgentRuntime.Context, Reconciler<Assignment>> factory(IptablesSettings settings) {
        return ctx -> create(ctx, settings).asReconciler();
    }

    /** Builds the reconciler for one host; see {@link #factory}. */
    public static IptablesReconciler create(AgentRuntime.Context ctx, IptablesSettings settings) {
        Path root = ctx.options().rootDir();
        ChainSync v4 = new ChainSync(settings.chain(), false, settings.createBackend(root));
        ChainSync v6 = settings.ipv6() ? new ChainSync(settings.chain(), true, settings.createBackend6(root)) : null;
        ChainSync dock = new ChainSync(settings.dockerChain(), ChainRenderer.DOCKER_HOOK, false,
                settings.createDockerBackend(root));
        register(ctx.metrics(), v4, "ipv4");
        register(ctx.metrics(), dock, "docker");
        if (v6 != null) {
            register(ctx.metrics(), v6, "ipv6");
        }
        return new IptablesReconciler(v4, v6, dock, settings.debounce());
    }

    private static void register(MeterRegistry metrics, ChainSync sync, String family) {
        FunctionCounter.builder("intent_iptables_writes_total", sync.backend(), ChainBackend::writes)
                .description("atomic writes of the chain (iptables-restore calls or rules file replacements)")
                .tag("family", family).register(metrics);
        FunctionCounter.builder("intent_iptables_passes_total", sync, ChainSync::passes)
                .description("sync passes (read, compare, write if different)").tag("family", family)
                .register(metrics);
        Gauge.builder("intent_iptables_rules", sync, s -> s.latest() == null ? 0 : s.latest().rules().rules().size())
                .description("rules in the chain after the last pass").tag("family", family).register(metrics);
    }

    @Override
    public String agent() {
        return AGENT;
    }

    @Override
    public Duration settle() {
        return debounce;
    }

    /** Runs every table's pass on the slice; throws when one could not read or write its table. */
    @Override
    public Map<String, Result> reconcile(Map<String, Entry<Assignment>> desired) throws IptablesException {
        DesiredSlice slice = DesiredSlice.of(desired);
        List<CompletableFuture<SyncPass>> running = syncs().stream()
                .map(s -> CompletableFuture.supplyAsync(() -> s.sync(slice), tables)).toList();
        List<SyncPass> passes = running.stream().map(CompletableFuture::join).toList();
        String failures = passes.stream().filter(p -> !p.ok()).map(SyncPass::failure)
                .collect(Collectors.joining("; "));
        if (!failures.isEmpty()) {
            throw new IptablesException(failures);
        }
        Map<String, Result> results = new TreeMap<>();
        for (String app : slice.assignments().keySet()) {
            Result r = combine(app, passes.get(0), sync6 == null ? null : passes.get(1));
            results.put(app, docker == null ? r : withDocker(app, r, passes.get(passes.size() - 1)));
        }
        return results;
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
        // both passes rendered the same snapshot, so they agree on which apps are in it
        if (r4.phase() == Phase.FAILED || r4.removal()) {
            return r4;
        }
        if (r6.phase() == Phase.FAILED) {
            return r6;
        }
        int n6 = (Integer) r6.details().get("rules");
        Map<String, Object> details = new HashMap<>(r4.details());
        details.put("rules6", n6);
        return Result.ready(r4.version(), r4.observedRevision(), r4.message() + " (IPv6: " + n6 + ")", details);
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
        tables.shutdown();
    }
}
