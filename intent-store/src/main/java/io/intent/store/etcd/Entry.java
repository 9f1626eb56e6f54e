package io.intent.store.etcd;

/**
 * One key as read from etcd: its decoded value, or, when the bytes do not decode (a hand-written value
 * with broken JSON or unknown fields), the parse error. A bad value never crashes a reader; it surfaces here.
 *
 * @param value          the decoded value, null when {@link #error} is set
 * @param error          why the value could not be decoded, or null
 * @param raw            the value's bytes as text (cut at 1 KiB) when invalid, for messages
 * @param modRevision    the key's last modification revision (its ETag)
 * @param createRevision the revision that created the key
 * @param lease          the lease the key is attached to, 0 for none
 */
public record Entry<T>(String key, T value, String error, String raw, long modRevision, long createRevision,
                       long lease) {

    public boolean valid() {
        return error == null;
    }

    /** The value, or an exception carrying the parse error. */
    public T require() {
        if (error != null) {
            throw new io.intent.store.codec.InvalidValueException(key + ": " + error);
        }
        return value;
    }
}
