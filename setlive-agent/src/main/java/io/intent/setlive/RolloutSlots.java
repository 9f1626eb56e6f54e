package io.intent.setlive;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.model.RolloutRequest;
import io.intent.store.model.SlotGrant;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * This host's side of the rollout semaphore that bounds how many hosts may take an app down at once. A host
 * writes only keys of its own: it asks with {@code rollout/<host>/<app>} on its agent lease, and the leader
 * (which alone sees every host's requests) grants {@code slots/<host>/<app>} while fewer than
 * {@code maxUnavailable} grants hold. A grant counts only while the request it answers lives, so a dead agent
 * frees its slot when its lease expires, and a host can neither take nor free another host's slot. A host holds
 * at most one slot per app, from before it stops a healthy instance until its instance is healthy again.
 */
final class RolloutSlots {
    /** How long one {@link #acquire} waits for the leader's grant before the switch reports WAITING. */
    static final long GRANT_WAIT_MS = 1000;

    private final EtcdStore store;
    private final KeyLayout keys;
    private final String host;
    private final AgentLease lease;
    /** Apps for which this agent surely has no request; unknown apps are deleted once to be sure. */
    private final Map<String, Boolean> surelyNone = new ConcurrentHashMap<>();

    RolloutSlots(EtcdStore store, String host, AgentLease lease) {
        this.store = store;
        this.keys = store.keys();
        this.host = host;
        this.lease = lease;
    }

    /**
     * Asks for a slot (or keeps the one this host holds) and waits up to {@link #GRANT_WAIT_MS} for the leader's
     * grant; false when none came. When it returns true, {@code alsoOps} have been applied too.
     */
    boolean acquire(String app, String version, List<Op> alsoOps) throws InterruptedException {
        long leaseId = lease.id();
        String key = keys.rolloutRequest(host, app);
        Optional<Entry<RolloutRequest>> mine = store.get(key, RolloutRequest.class);
        if (mine.isEmpty() || mine.get().lease() != leaseId) {
            // new, or ours from before an agent restart: (re)asked on the live lease
            surelyNone.remove(app);
            store.put(key, new RolloutRequest(host, app, version, Instant.now()), leaseId);
            mine = store.get(key, RolloutRequest.class);
            if (mine.isEmpty()) {
                return false;
            }
        }
        long request = mine.get().createRevision();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRANT_WAIT_MS);
        long pause = 5;
        while (true) {
            Optional<Entry<SlotGrant>> grant = store.get(keys.slot(host, app), SlotGrant.class);
            if (grant.isPresent() && grant.get().valid() && grant.get().value().lease() == leaseId
                    && grant.get().value().request() == request) {
                if (!alsoOps.isEmpty()) {
                    store.commit(alsoOps);
                }
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(pause);
            pause = Math.min(50, pause * 3 / 2 + 1);
        }
    }

    /** Gives back this host's slot of {@code app} (withdraws its request), if it holds or asked for one. */
    void release(String app) {
        if (Boolean.TRUE.equals(surelyNone.get(app))) {
            return;
        }
        store.delete(keys.rolloutRequest(host, app));
        surelyNone.put(app, true);
    }
}
