package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies {@link Changes} to etcd in transactions that all compare the fencing token, batched within etcd's
 * limits (128 operations and 1.5 MiB per request by default; this stays at 128 and about 1 MiB). Each
 * transaction also rewrites the {@link LeaderTerm} stamp. Order: new and changed assignments first, then
 * placements, then deletions, so a moving instance starts on its new host before the old one is told to stop.
 */
public final class PlanWriter {
    /** etcd's default {@code --max-txn-ops}. */
    public static final int MAX_OPS = 128;
    /** Well under etcd's default {@code --max-request-bytes} of 1.5 MiB, leaving room for the request framing. */
    public static final int MAX_BYTES = 1024 * 1024;
    /** Per-operation overhead counted on top of key and value (protobuf framing, compare, header). */
    private static final int OP_OVERHEAD = 64;

    /**
     * Transactions in flight at once. etcd commits concurrent proposals in one raft round and one fsync, so a
     * few in flight multiply throughput; each is fenced on its own, so a lost fence refuses every one of them.
     */
    public static final int IN_FLIGHT = 4;
    private static final java.util.concurrent.ExecutorService POOL =
            java.util.concurrent.Executors.newFixedThreadPool(IN_FLIGHT, r -> {
                Thread t = new Thread(r, "plan-writer");
                t.setDaemon(true);
                return t;
            });

    private final EtcdStore store;
    private final KeyLayout keys;
    private final Fence fence;
    private final Op.Put stamp;

    public PlanWriter(EtcdStore store, Fence fence, String leader) {
        this.store = store;
        this.keys = store.keys();
        this.fence = fence;
        this.stamp = new Op.Put(LeaderTerm.key(keys), Json.write(new LeaderTerm(leader, fence.key(),
                fence.createRevision())), 0);
    }

    /** The etcd operations for {@code changes}, in write order (without the stamp). */
    public List<Op> ops(Changes changes) {
        List<Op> ops = new ArrayList<>(changes.size());
        changes.assignmentPuts().forEach((slot, a) -> ops.add(Op.put(keys.assignment(slot.host(), slot.app()), a)));
        changes.placementPuts().forEach((app, p) -> ops.add(Op.put(keys.placement(app), p)));
        changes.assignmentDeletes().forEach(slot -> ops.add(Op.delete(keys.assignment(slot.host(), slot.app()))));
        changes.placementDeletes().forEach(app -> ops.add(Op.delete(keys.placement(app))));
        return ops;
    }

    /** Splits ops into transactions within the limits, each starting with the stamp. */
    public List<List<Op>> batches(List<Op> ops) {
        List<List<Op>> out = new ArrayList<>();
        List<Op> batch = null;
        long bytes = 0;
        for (Op op : ops) {
            long size = size(op);
            if (batch == null || batch.size() >= MAX_OPS || bytes + size > MAX_BYTES) {
                batch = new ArrayList<>(MAX_OPS);
                batch.add(stamp);
                bytes = size(stamp);
                out.add(batch);
            }
            batch.add(op);
            bytes += size;
        }
        return out;
    }

    private static long size(Op op) {
        long value = op instanceof Op.Put p ? p.value().length : 0;
        return op.key().length() + value + OP_OVERHEAD;
    }

    /**
     * Writes every change while {@code active} says so; returns the number of operations written (stamps not
     * counted). A dispatcher told to stop returns after the batch in flight.
     *
     * @throws FenceLostException when etcd refuses a transaction because the fence no longer holds; the
     *                            batches before it were written, nothing after it
     * @throws io.intent.store.etcd.StoreException when etcd cannot be reached; the outcome of the batch in flight
     *                            is unknown, so the caller re-reads the store
     */
    public int write(Changes changes, java.util.function.BooleanSupplier active) {
        List<List<Op>> batches = batches(ops(changes));
        // puts of assignments and placements go first, in parallel; deletions only once every put has landed
        int firstDelete = changes.assignmentPuts().size() + changes.placementPuts().size();
        List<List<Op>> puts = new ArrayList<>();
        List<List<Op>> rest = new ArrayList<>();
        int seen = 0;
        for (List<Op> batch : batches) {
            int n = batch.size() - 1;
            (seen + n <= firstDelete ? puts : rest).add(batch);
            seen += n;
        }
        int written = commitAll(puts, active);
        return written + commitAll(rest, active);
    }

    /** Commits batches with up to {@link #IN_FLIGHT} transactions in flight; stops early when told to. */
    private int commitAll(List<List<Op>> batches, java.util.function.BooleanSupplier active) {
        int written = 0;
        for (int i = 0; i < batches.size(); i += IN_FLIGHT) {
            if (!active.getAsBoolean()) {
                return written;
            }
            List<List<Op>> group = batches.subList(i, Math.min(batches.size(), i + IN_FLIGHT));
            List<java.util.concurrent.CompletableFuture<Boolean>> results = new ArrayList<>();
            for (List<Op> b : group) {
                results.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> store.commit(fence, b), POOL));
            }
            boolean refused = false;
            RuntimeException failure = null;
            for (int k = 0; k < results.size(); k++) {
                try {
                    if (results.get(k).join()) {
                        written += group.get(k).size() - 1;
                    } else {
                        refused = true;
                    }
                } catch (java.util.concurrent.CompletionException e) {
                    failure = e.getCause() instanceof RuntimeException re ? re : e;
                }
            }
            if (refused) {
                throw new FenceLostException(fence);
            }
            if (failure != null) {
                throw failure;
            }
        }
        return written;
    }

    public Fence fence() {
        return fence;
    }
}
