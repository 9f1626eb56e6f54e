package io.intent.store.etcd;

/** One write in a multi-operation transaction: a put of an encoded value, or a delete. */
public sealed interface Op {
    String key();

    static Op put(String key, Object value) {
        return new Put(key, io.intent.store.codec.Json.write(value), 0);
    }

    static Op delete(String key) {
        return new Delete(key);
    }

    /** A put of already-encoded bytes, optionally attached to a lease. */
    record Put(String key, byte[] value, long lease) implements Op {
    }

    /** A delete of one key. */
    record Delete(String key) implements Op {
    }
}
