package io.intent.bench;

import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.SliceWatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The physical limits of the etcd under test, measured with the raw client: what every other benchmark
 * divides by. Each method writes under its own scratch prefix and deletes it after.
 */
public final class EtcdLimits {
    private final EtcdStore store;

    public EtcdLimits(EtcdStore store) {
        this.store = store;
    }

    private static byte[] value(int i) {
        return ("{\"i\":" + i + ",\"pad\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    /** {@code n} sequential puts, back to back; returns each latency in ns. */
    public long[] putLatencies(String prefix, int n, long pauseMicros) throws InterruptedException {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            store.putBytes(prefix + (i % 64), value(i), 0);
            out[i] = System.nanoTime() - t0;
            if (pauseMicros > 0) {
                TimeUnit.MICROSECONDS.sleep(pauseMicros);
            }
        }
        store.deletePrefix(prefix);
        return out;
    }

    /** Put → watch-event latency through the raw jetcd watch (no slice bookkeeping). */
    public long[] watchLatencies(String prefix, int n) throws InterruptedException {
        BlockingQueue<Long> arrivals = new ArrayBlockingQueue<>(n + 16);
        var watcher = store.client().getWatchClient().watch(
                io.etcd.jetcd.ByteSequence.from(prefix, StandardCharsets.UTF_8),
                io.etcd.jetcd.options.WatchOption.builder().isPrefix(true).build(),
                resp -> resp.getEvents().forEach(e -> arrivals.offer(System.nanoTime())));
        try {
            return putToArrival(prefix, n, arrivals);
        } finally {
            watcher.close();
            store.deletePrefix(prefix);
        }
    }

    /** Same as {@link #watchLatencies} but through {@link SliceWatch}, the path every agent uses. */
    public long[] sliceWatchLatencies(String prefix, int n) throws InterruptedException {
        BlockingQueue<Long> arrivals = new ArrayBlockingQueue<>(n + 16);
        try (SliceWatch<Object> w = store.watchSlice(prefix, Object.class, (changes, rev, relisted) -> {
            if (!relisted) {
                changes.forEach(c -> arrivals.offer(System.nanoTime()));
            }
        })) {
            w.awaitReady(java.time.Duration.ofSeconds(10));
            return putToArrival(prefix, n, arrivals);
        } finally {
            store.deletePrefix(prefix);
        }
    }

    /** {@code n} puts, one at a time, each timed until its event arrives on {@code arrivals}. */
    private long[] putToArrival(String prefix, int n, BlockingQueue<Long> arrivals) throws InterruptedException {
        Thread.sleep(200); // let the watch settle
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            store.putBytes(prefix + "k", value(i), 0);
            Long t1 = arrivals.poll(5, TimeUnit.SECONDS);
            if (t1 == null) {
                throw new IllegalStateException("watch event " + i + " did not arrive within 5 s");
            }
            out[i] = t1 - t0;
        }
        return out;
    }

    /** Puts per second in unguarded transactions of {@code batch} puts, {@code total} puts in all, sequential. */
    public double txnPutsPerSecond(String prefix, int total, int batch) {
        long t0 = System.nanoTime();
        for (int done = 0; done < total; done += batch) {
            List<Op> ops = new ArrayList<>(batch);
            for (int i = done; i < Math.min(total, done + batch); i++) {
                ops.add(new Op.Put(prefix + i, value(i), 0));
            }
            store.commit(ops);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        store.deletePrefix(prefix);
        return total / secs;
    }
}
