package io.intent.bench;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.Assignment;
import io.intent.testkit.EtcdCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How many watch events does one change to one host's slice deliver, with 1,000 hosts each running three
 * agents (three slice watches per host, the real {@link SliceWatch})? Per-host slices mean only that host's
 * agents wake: the limit is the host's agent count. A herd design (every agent watching everything) would
 * deliver one event per agent in the cluster.
 */
public final class FanoutBench implements Benchmark {
    @Override
    public String describe() {
        return "watch events delivered per change to one host's slice, 1,000 hosts x 3 agents";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int agents = 3;
        int changes = 50;
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            KeyLayout keys = store.keys();
            List<Op> batch = new ArrayList<>();
            for (int h = 0; h < hosts; h++) {
                batch.add(Op.put(keys.assignment("h" + h, "web"), new Assignment("web", "h" + h, 1, null)));
                if (batch.size() == 128) {
                    store.commit(batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                store.commit(batch);
            }
            // one client per agent kind, as three agent processes per host would each have one
            List<EtcdStore> clients = new ArrayList<>();
            for (int a = 0; a < agents; a++) {
                clients.add(EtcdStore.connect(EtcdConfig.of(etcd.endpoints())));
            }
            AtomicLong events = new AtomicLong();
            AtomicLongArray perHost = new AtomicLongArray(hosts);
            List<SliceWatch<Assignment>> watches = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int h = 0; h < hosts; h++) {
                int host = h;
                for (int a = 0; a < agents; a++) {
                    watches.add(clients.get(a).watchSlice(keys.assignSlice("h" + h), Assignment.class,
                            (cs, rev, relisted) -> {
                                if (!relisted) {
                                    events.addAndGet(cs.size());
                                    perHost.addAndGet(host, cs.size());
                                }
                            }));
                }
            }
            for (var w : watches) {
                w.awaitReady(Duration.ofSeconds(60));
            }
            double setupS = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(1000);
            events.set(0);

            Random rnd = new Random(42);
            long[] latencies = new long[changes];
            int wrongHost = 0;
            for (int i = 0; i < changes; i++) {
                int h = rnd.nextInt(hosts);
                long before = perHost.get(h);
                long totalBefore = events.get();
                long start = System.nanoTime();
                store.put(keys.assignment("h" + h, "web"), new Assignment("web", "h" + h, 2 + i, null));
                while (perHost.get(h) < before + agents && System.nanoTime() - start < 5_000_000_000L) {
                    Thread.onSpinWait();
                }
                latencies[i] = System.nanoTime() - start;
                Thread.sleep(100); // let any stray delivery to other hosts arrive before the next change
                if ((events.get() - totalBefore) - (perHost.get(h) - before) > 0) {
                    wrongHost++;
                }
            }
            Thread.sleep(500);
            double perChange = events.get() / (double) changes;
            Stats lat = new Stats(latencies);

            r.header(hosts + " hosts x " + agents + " agents = " + hosts * agents + " slice watches on one etcd");
            r.row("watches set up (list + watch each)", setupS, "s", "");
            r.row("changes made, each to one random host", changes, "", "");
            r.row("watch events delivered per change", perChange, "events", "limit: the host's agents = " + agents);
            r.row("changes that woke another host", wrongHost, "", "");
            r.row("put -> all 3 agents of the host saw it, p50", lat.p50(), "ms", "");
            r.row("put -> all 3 agents of the host saw it, p99", lat.p99(), "ms", "");
            r.row("a herd design would deliver per change", hosts * agents, "events", "computed: every agent wakes");
            r.result("fanout.events_per_change", perChange, "events", agents);
            r.finish();
            for (var w : watches) {
                w.close();
            }
            clients.forEach(EtcdStore::close);
        }
    }
}
