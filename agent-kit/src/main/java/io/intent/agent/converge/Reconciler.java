package io.intent.agent.converge;

import io.intent.store.etcd.Entry;
import java.util.Set;

/**
 * One agent's logic: converge one named thing (an app on this host) towards its desired value.
 *
 * <p>The contract, which the {@link Converger} relies on:
 * <ul>
 *   <li><b>Level-based.</b> {@code reconcile} gets the latest desired value, not the event that caused the
 *       call. It reads the actual state itself, acts, and reports. It may be called any number of times for
 *       the same value and must then do nothing (idempotent).</li>
 *   <li><b>One call per name at a time.</b> Calls for different names may run concurrently.</li>
 *   <li><b>Removal.</b> {@code desired == null} means the name is no longer in the slice: clean up and
 *       return {@link Result#removed()}.</li>
 *   <li><b>Failure.</b> Throw, or return a {@link io.intent.store.model.Phase#FAILED} result: the kit reports
 *       it with the attempt count and retries with capped exponential backoff and jitter. A missing
 *       precondition is not a failure: return {@code WAITING} and the kit retries soon.</li>
 *   <li><b>Crash safety.</b> The process may die at any instruction; a later call must finish or redo the
 *       work, and nothing half-made may look complete.</li>
 *   <li><b>Store trouble.</b> Never tear anything down because etcd is unreachable; the kit simply stops
 *       calling until it can read the slice again.</li>
 * </ul>
 * Invalid values in the slice (broken JSON) never reach the reconciler: the kit reports them as FAILED and
 * leaves whatever runs alone. A reconciler that also implements {@link AutoCloseable} is closed when its
 * converger closes, and by nobody else: the converger owns it.
 */
public interface Reconciler<T> {
    /** The agent's name, used in status keys: {@code preparer}, {@code iptables}, {@code setlive}. */
    String agent();

    /** Converges {@code name}; {@code desired} is null when it was removed from the slice. */
    Result reconcile(String name, Entry<T> desired) throws Exception;

    /**
     * Names the host actually has (installs on disk, rules, services), so a periodic resync also cleans up
     * things whose removal it never saw. Default: none.
     */
    default Set<String> actualNames() throws Exception {
        return Set.of();
    }

    /**
     * Called once, before the first reconcile, with the kit's handle: keep it to requeue names from background
     * work and to read the desired slice the kit holds. Default: ignored.
     */
    default void bind(ReconcileContext<T> context) {
    }

    /**
     * How many names this agent converges at once; 0 (the default) leaves it to the kit's setting. An agent whose
     * reconciles mostly wait (on processes, sockets, etcd) rather than compute asks for more.
     */
    default int workers() {
        return 0;
    }
}
