package io.intent.setlive;

import io.intent.store.codec.Json;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A counting semaphore in etcd that bounds how many hosts may take an app down at once: the slots are the keys
 * {@code rollout/<app>/slot-0 .. slot-(maxUnavailable-1)}; a host takes a free one with a create-if-absent
 * transaction on its agent lease, so a dead agent frees its slot when the lease expires. A host holds at most
 * one slot per app, from before it stops a healthy instance until its instance is healthy again.
 */
final class RolloutSlots {
    /** A slot's value: who holds it, for which version, since when. */
    record Holder(String host, String version, Instant since) {
    }

    private final EtcdStore store;
    private final String host;
    private final AgentLease lease;
    /** Apps for which this agent surely holds no slot; unknown apps are checked in etcd. */
    private final Map<String, Boolean> surelyNone = new ConcurrentHashMap<>();

    RolloutSlots(EtcdStore store, String host, AgentLease lease) {
        this.store = store;
        this.host = host;
        this.lease = lease;
    }

    /**
     * Takes a slot (or keeps the one this host already holds); false when all are taken by others. When it
     * returns true, {@code alsoOps} have been applied too, in the same transaction as the slot when one was taken.
     */
    boolean acquire(String app, String version, int maxUnavailable, List<Op> alsoOps) {
        String prefix = store.keys().rolloutPrefix(app);
        long leaseId = lease.id();
        if (Boolean.TRUE.equals(surelyNone.get(app))) {
            // we hold none: one create-if-absent per slot, no listing (a switch's common case, one round trip)
            for (int i = 0; i < maxUnavailable; i++) {
                if (store.putIf(prefix + "slot-" + i, Json.write(new Holder(host, version, Instant.now())), 0,
                        leaseId, alsoOps)) {
                    surelyNone.remove(app);
                    return true;
                }
            }
            return false;
        }
        Map<String, Entry<Holder>> held = store.list(prefix, Holder.class).byKey();
        int byOthers = 0;
        for (Entry<Holder> e : held.values()) {
            if (e.valid() && host.equals(e.value().host())) {
                if (e.lease() == leaseId) {
                    if (!alsoOps.isEmpty()) {
                        store.commit(alsoOps);
                    }
                    return true;
                }
                // ours from before an agent restart: move it onto the live lease
                byte[] v = Json.write(new Holder(host, version, Instant.now()));
                if (store.putIf(e.key(), v, e.modRevision(), leaseId, alsoOps)) {
                    surelyNone.remove(app);
                    return true;
                }
                return false;
            }
            byOthers++;
        }
        if (byOthers >= maxUnavailable) {
            return false;
        }
        for (int i = 0; i < maxUnavailable; i++) {
            String key = prefix + "slot-" + i;
            if (!held.containsKey(key)
                    && store.putIf(key, Json.write(new Holder(host, version, Instant.now())), 0, leaseId, alsoOps)) {
                surelyNone.remove(app);
                return true;
            }
        }
        return false;
    }

    /** Gives back this host's slot of {@code app}, if it holds one. */
    void release(String app) {
        if (Boolean.TRUE.equals(surelyNone.get(app))) {
            return;
        }
        for (Entry<Holder> e : store.list(store.keys().rolloutPrefix(app), Holder.class).entries()) {
            if (e.valid() && host.equals(e.value().host())) {
                store.deleteIf(e.key(), e.modRevision());
            }
        }
        surelyNone.put(app, true);
    }

    /** Who holds slots of {@code app} now (for status messages). */
    String holders(String app) {
        StringBuilder sb = new StringBuilder();
        for (Entry<Holder> e : store.list(store.keys().rolloutPrefix(app), Holder.class).entries()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(e.valid() ? e.value().host() : "?");
        }
        return sb.toString();
    }
}
