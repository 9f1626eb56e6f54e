package io.intent.api;

import io.intent.store.etcd.EtcdStore;

/**
 * The API's conditional writes, over {@link EtcdStore#putExpecting} and {@link EtcdStore#deleteExpecting}: an
 * {@code If-Match} precondition in, the revision of the write (the new ETag) and whether the key existed out.
 * Blocking.
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
        var w = store.putExpecting(key, value, precondition(expected));
        if (!w.applied()) {
            return new Outcome(-1, expected != 0);
        }
        wrote.accept(w.revision());
        return new Outcome(w.revision(), w.existed());
    }

    /** Deletes {@code key} under the same conditions as {@link #put}; {@code existed} says whether it was there. */
    Outcome delete(String key, long expected) {
        var w = store.deleteExpecting(key, precondition(expected == Etags.NONE ? Etags.ANY : expected));
        if (!w.applied()) {
            return new Outcome(-1, expected != Etags.NONE && expected != Etags.ANY);
        }
        wrote.accept(w.revision());
        return new Outcome(w.revision(), true);
    }

    private static long precondition(long expected) {
        return expected == Etags.NONE ? EtcdStore.UNCONDITIONAL : expected == Etags.ANY ? EtcdStore.EXISTING : expected;
    }
}
