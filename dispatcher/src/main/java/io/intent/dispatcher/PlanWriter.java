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
        int written = 0;
        for (List<Op> batch : batches(ops(changes))) {
            if (!active.getAsBoolean()) {
                return written;
            }
            if (!store.commit(fence, batch)) {
                throw new FenceLostException(fence);
            }
            written += batch.size() - 1;
        }
        return written;
    }

    public Fence fence() {
        return fence;
    }
}
