package io.intent.api;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.intent.store.etcd.EtcdStore;
import java.nio.charset.StandardCharsets;

/**
 * The API's conditional writes: like {@link EtcdStore#putIf} but answering the revision of the write, which
 * becomes the new ETag, and whether the key existed. Blocking.
 */
final class Writes {
    /** A write's outcome: {@code revision} < 0 means the precondition failed and nothing was written. */
    record Outcome(long revision, boolean existed) {
        boolean applied() {
            return revision >= 0;
        }
    }

    private final EtcdStore store;
    private final java.util.function.LongConsumer wrote;

    /** @param wrote told the revision of every applied write (the read cache waits for it: read-your-writes) */
    Writes(EtcdStore store, java.util.function.LongConsumer wrote) {
        this.store = store;
        this.wrote = wrote;
    }

    /**
     * Writes {@code value} at {@code key} when its mod revision is {@code expected}: a revision from an ETag,
     * 0 for "must not exist", {@link Etags#ANY} for "must exist", {@link Etags#NONE} for no condition.
     */
    Outcome put(String key, byte[] value, long expected) {
        ByteSequence k = bytes(key);
        Op put = Op.put(k, ByteSequence.from(value), PutOption.builder().withPrevKV().build());
        Cmp cmp = condition(k, expected);
        var resp = store.call("put " + key, () -> {
            var txn = store.client().getKVClient().txn();
            if (cmp != null) {
                txn = txn.If(cmp);
            }
            return txn.Then(put).commit();
        });
        if (!resp.isSucceeded()) {
            return new Outcome(-1, expected != 0);
        }
        boolean existed = !resp.getPutResponses().isEmpty() && resp.getPutResponses().get(0).hasPrevKv();
        wrote.accept(resp.getHeader().getRevision());
        return new Outcome(resp.getHeader().getRevision(), existed);
    }

    /** Deletes {@code key} under the same conditions as {@link #put}; {@code existed} says whether it was there. */
    Outcome delete(String key, long expected) {
        ByteSequence k = bytes(key);
        Cmp cmp = condition(k, expected == Etags.NONE ? Etags.ANY : expected);
        var resp = store.call("delete " + key, () -> store.client().getKVClient().txn().If(cmp)
                .Then(Op.delete(k, DeleteOption.DEFAULT)).commit());
        if (!resp.isSucceeded()) {
            return new Outcome(-1, expected != Etags.NONE && expected != Etags.ANY);
        }
        wrote.accept(resp.getHeader().getRevision());
        return new Outcome(resp.getHeader().getRevision(), true);
    }

    private static Cmp condition(ByteSequence k, long expected) {
        if (expected == Etags.NONE) {
            return null;
        }
        if (expected == Etags.ANY) {
            return new Cmp(k, Cmp.Op.GREATER, CmpTarget.createRevision(0));
        }
        return new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(expected));
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
