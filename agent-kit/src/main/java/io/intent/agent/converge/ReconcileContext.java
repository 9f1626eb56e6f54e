package io.intent.agent.converge;

import io.intent.store.etcd.Entry;
import java.time.Duration;
import java.util.Map;

/**
 * The kit's handle for one reconciler, given once before the first reconcile ({@link Reconciler#bind}): it
 * requeues names and reads the desired slice the kit already holds, so an agent never re-reads etcd for it.
 */
public interface ReconcileContext<T> {
    /**
     * Reconciles {@code name} again as soon as a worker is free, as if it had changed: news, so it cuts a pending
     * backoff or requeue short. For an event the watch cannot see (a background download ended).
     */
    void requeue(String name);

    /** Reconciles {@code name} again after {@code after}, replacing a requeue or backoff already pending for it. */
    void requeue(String name, Duration after);

    /**
     * A read-only view of the desired slice as the kit holds it, by name: the latest entry of every name, invalid
     * ones included ({@link Entry#valid()} false). Empty until the slice has been read once ({@link #synced()}).
     */
    Map<String, Entry<T>> desired();

    /** True once the slice has been read: before that, a name missing from {@link #desired()} is unknown, not removed. */
    boolean synced();

    /**
     * True while {@code name} waits out the backoff of its last failure: a reconcile now came early (a change, a
     * requeue) and should not redo the failed work; reporting the failure again is enough.
     */
    boolean backingOff(String name);
}
