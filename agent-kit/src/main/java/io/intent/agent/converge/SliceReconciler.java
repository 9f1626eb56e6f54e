package io.intent.agent.converge;

import io.intent.store.etcd.Entry;
import java.time.Duration;
import java.util.Map;

/**
 * One agent's logic when it converges one artefact from all names at once (the iptables agent's chain): the
 * kit's whole-slice mode. Run it with {@link #asReconciler()} wherever a {@link Reconciler} is taken.
 *
 * <p>The contract, beside {@link Reconciler}'s (level-based, idempotent, crash-safe, never tears down on a store
 * outage):
 * <ul>
 *   <li><b>Once per settled change.</b> {@code reconcile} gets a read-only snapshot of the whole desired slice
 *       (invalid entries included, {@link Entry#valid()} false) after a change has settled for {@link #settle()}
 *       (a burst of changes is one call), after each resync, and after a requested requeue. Calls never overlap.
 *       It is not called before the slice has been read once, so an empty snapshot means an empty slice.</li>
 *   <li><b>Per-name results.</b> It returns the {@link Result} of every name it has something to say about; the
 *       kit writes each status when it changed (with that name's count of consecutive failures). A desired name it
 *       leaves out is reported FAILED; a name with a status that is neither desired nor returned loses its status.
 *       Invalid names are reported FAILED by the kit, whatever the result says.</li>
 *   <li><b>Failure.</b> Throwing means the artefact could not be converged: every desired name and every name with
 *       a status is reported FAILED with the error, and the call is retried after the kit's capped backoff (a
 *       resync does not cut it short; a change does). A name FAILED in a returned map is that name's failure alone:
 *       it is reported, and the next call comes with the next change or resync.</li>
 *   <li><b>Requeue.</b> The earliest {@link Result#requeueAfter()} of the returned results, and 2 s after any
 *       WAITING or PROGRESSING one, bring the next call.</li>
 * </ul>
 * Closed by its converger, if {@link AutoCloseable}, and by nobody else.
 */
public interface SliceReconciler<T> {
    /** The agent's name, used in status keys. */
    String agent();

    /** Converges the whole slice; returns the result of each name (see the contract above). */
    Map<String, Result> reconcile(Map<String, Entry<T>> desired) throws Exception;

    /** How long a change waits for the ones that follow it, so a burst makes one call. Default: none. */
    default Duration settle() {
        return Duration.ZERO;
    }

    /** This agent as the kit's factories take it: the {@link Converger} recognises it and runs the whole slice. */
    default Reconciler<T> asReconciler() {
        return new WholeSlice<>(this);
    }

    /** The carrier of a slice reconciler through the APIs that take a {@link Reconciler}. */
    record WholeSlice<T>(SliceReconciler<T> slice) implements Reconciler<T>, AutoCloseable {
        @Override
        public String agent() {
            return slice.agent();
        }

        @Override
        public Result reconcile(String name, Entry<T> desired) {
            throw new IllegalStateException(slice.agent() + " converges the whole slice; the kit never asks per name");
        }

        @Override
        public void close() throws Exception {
            if (slice instanceof AutoCloseable c) {
                c.close();
            }
        }
    }
}
