package io.intent.store.etcd;

/** An etcd call that failed for good (after retries, or a non-transient error); the message says which call. */
public class StoreException extends RuntimeException {
    private final boolean transientFailure;

    public StoreException(String message, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    /** True when etcd was unreachable or slow: the caller may retry later; nothing was said about the data. */
    public boolean isTransient() {
        return transientFailure;
    }
}
