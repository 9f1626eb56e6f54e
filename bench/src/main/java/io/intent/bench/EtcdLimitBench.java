package io.intent.bench;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.testkit.EtcdCluster;

/**
 * The raw limits of a fresh local single-member etcd through jetcd: put latency (back-to-back and paced),
 * put → watch-event latency, and batched transaction throughput. Later benchmarks divide by these.
 */
public final class EtcdLimitBench implements Benchmark {
    @Override
    public String describe() {
        return "raw etcd limits: put p50/p99, paced put, put->watch, batched txn puts/s";
    }

    @Override
    public void run(Report r, String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            EtcdLimits limits = new EtcdLimits(store);
            limits.putLatencies("/bench/warm/", 500, 0);

            r.header("fresh single-member etcd " + etcd.endpoint(0) + ", " + n + " samples each");
            Stats b2b = new Stats(limits.putLatencies("/bench/put/", n, 0));
            r.row("put, back-to-back, p50", b2b.p50(), "ms", "n=" + b2b.count());
            r.row("put, back-to-back, p99", b2b.p99(), "ms", "");
            Stats paced = new Stats(limits.putLatencies("/bench/paced/", Math.min(n, 500), 5_000));
            r.row("put, paced every 5 ms, p50", paced.p50(), "ms", "n=" + paced.count());
            r.row("put, paced every 5 ms, p99", paced.p99(), "ms", "");
            Stats watch = new Stats(limits.watchLatencies("/bench/watch/", Math.min(n, 1000)));
            r.row("put -> raw watch event, p50", watch.p50(), "ms", "n=" + watch.count());
            r.row("put -> raw watch event, p99", watch.p99(), "ms", "");
            Stats slice = new Stats(limits.sliceWatchLatencies("/bench/slice/", Math.min(n, 1000)));
            r.row("put -> SliceWatch event, p50", slice.p50(), "ms", "n=" + slice.count());
            double txn = limits.txnPutsPerSecond("/bench/txn/", 20_000, 128);
            r.row("puts in 128-put transactions", txn, "puts/s", "20000 puts, sequential");

            r.result("etcd.put_p50_ms", b2b.p50(), "ms", 0);
            r.result("etcd.put_paced_p50_ms", paced.p50(), "ms", 0);
            r.result("etcd.watch_p50_ms", watch.p50(), "ms", 0);
            r.result("etcd.slice_watch_p50_ms", slice.p50(), "ms", watch.p50());
            r.result("etcd.txn_puts_per_s", txn, "puts/s", 0);
            r.finish();
        }
    }
}
