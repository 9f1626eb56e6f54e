package io.intent.setlive;

import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.LeaseKeeper;
import java.time.Duration;

/**
 * The setlive agent's own etcd lease, granted on first use and replaced when lost. Rollout slots and endpoints
 * hang on it, so they vanish by themselves when the agent dies (after the TTL).
 */
final class AgentLease implements AutoCloseable {
    private final EtcdStore store;
    private final Duration ttl;
    private LeaseKeeper keeper;

    AgentLease(EtcdStore store, Duration ttl) {
        this.store = store;
        this.ttl = ttl;
    }

    /** A lease that is alive now (by the keeper's conservative deadline). */
    synchronized long id() {
        if (keeper == null || !keeper.valid()) {
            if (keeper != null) {
                keeper.close();
            }
            long lease = store.grantLease(ttl);
            keeper = store.keepAlive(lease, ttl, () -> { });
        }
        return keeper.lease();
    }

    /**
     * Stops keeping the lease alive without revoking it: what hangs on it (a rollout slot) lives on for the TTL,
     * long enough for the next process (a node replacing itself) to move it onto its own lease.
     */
    synchronized void abandon() {
        if (keeper != null) {
            keeper.close();
            keeper = null;
        }
    }

    /** Revokes the lease (its slots and endpoints go at once). */
    @Override
    public synchronized void close() {
        if (keeper != null) {
            keeper.close();
            try {
                store.revokeLease(keeper.lease());
            } catch (RuntimeException e) {
                // it expires after the TTL anyway
            }
            keeper = null;
        }
    }
}
