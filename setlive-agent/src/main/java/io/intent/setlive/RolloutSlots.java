package io.intent.setlive;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Session;
import io.intent.store.etcd.Op;
import io.intent.store.model.RolloutRequest;
import io.intent.store.model.SlotGrant;
import io.intent.store.etcd.SliceWatch;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * This host's side of the rollout semaphore that bounds how many hosts may take an app down at once. A host
 * writes only keys of its own: it asks with {@code rollout/<host>/<app>} on its agent lease, and the leader
 * (which alone sees every host's requests) grants {@code slots/<host>/<app>} while fewer than
 * {@code maxUnavailable} grants hold. A grant counts only while the request it answers lives, so a dead agent
 * frees its slot when its lease expires, and a host can neither take nor free another host's slot. A host holds
 * at most one slot per app, from before it stops a healthy instance until its instance is healthy again.
 *
 * <p>The host watches its own {@code slots/<host>/} slice: a switch waits for its grant only briefly, and when
 * the grant comes later (another host released the slot) the app's reconcile is woken at once, not on a timer.
 */
final class RolloutSlots implements AutoCloseable {
    /** How long one {@link #acquire} waits for the leader's grant (a free slot comes within a few etcd hops). */
    static final Duration GRANT_WAIT = Duration.ofMillis(200);

    private final EtcdStore store;
    private final KeyLayout keys;
    private final String host;
    private final Session lease;
    /** Apps for which this agent surely has no request; unknown apps are deleted once to be sure. */
    private final Map<String, Boolean> surelyNone = new ConcurrentHashMap<>();
    /** Per app, the lease and create revision of the request this agent made: {lease, revision}. */
    private final Map<String, long[]> asked = new ConcurrentHashMap<>();
    /** This host's grants as the watch last saw them, by app; guarded by {@code this}. */
    private final Map<String, Entry<SlotGrant>> grants = new HashMap<>();
    /** Apps whose switch is waiting for a grant: woken when one comes. Guarded by {@code this}. */
    private final Set<String> waiting = new HashSet<>();
    private volatile Consumer<String> wake = app -> { };
    private SliceWatch<SlotGrant> watch;
    private boolean closed;

    RolloutSlots(EtcdStore store, String host, Session lease) {
        this.store = store;
        this.keys = store.keys();
        this.host = host;
        this.lease = lease;
    }

    /** Whom to tell that an app waiting for a slot got one (the converger's enqueue). */
    void onGrant(Consumer<String> wake) {
        this.wake = wake;
    }

    /**
     * Asks for a slot (or keeps the one this host holds) and waits up to {@link #GRANT_WAIT} for the leader's
     * grant; false when none came, and the app is then woken through {@link #onGrant} when it comes. When it
     * returns true, {@code alsoOps} have been applied too.
     */
    boolean acquire(String app, String version, List<Op> alsoOps) throws InterruptedException {
        return acquire(app, version, alsoOps, GRANT_WAIT);
    }

    boolean acquire(String app, String version, List<Op> alsoOps, Duration wait) throws InterruptedException {
        watch();
        long leaseId = lease.lease();
        long[] known = asked.get(app);
        long request;
        if (known != null && known[0] == leaseId) {
            // asked on this lease a moment ago and waiting since: no etcd read needed to know it
            request = known[1];
        } else {
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
            request = mine.get().createRevision();
            // only this agent deletes its request (release), or its lease's expiry does (then the lease id differs)
            asked.put(app, new long[] {leaseId, request});
        }
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (this) {
            // waiting before looking: a grant arriving between the look and the return still wakes the app
            waiting.add(app);
            while (!granted(app, leaseId, request)) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            waiting.remove(app);
        }
        if (!alsoOps.isEmpty()) {
            store.commit(alsoOps);
        }
        return true;
    }

    private boolean granted(String app, long leaseId, long request) {
        Entry<SlotGrant> g = grants.get(app);
        return g != null && g.valid() && g.value().lease() == leaseId && g.value().request() == request;
    }

    /** Gives back this host's slot of {@code app} (withdraws its request), if it holds or asked for one. */
    void release(String app) {
        synchronized (this) {
            waiting.remove(app);
        }
        asked.remove(app);
        if (Boolean.TRUE.equals(surelyNone.get(app))) {
            return;
        }
        store.delete(keys.rolloutRequest(host, app));
        surelyNone.put(app, true);
    }

    private synchronized void watch() {
        if (watch != null || closed) {
            return;
        }
        String slice = keys.slotSlice(host);
        watch = store.watchSlice(slice, SlotGrant.class, (changes, rev, relisted) -> {
            List<String> woken = new ArrayList<>();
            synchronized (this) {
                for (var c : changes) {
                    String app = KeyLayout.childName(slice, c.key());
                    if (app == null) {
                        continue;
                    }
                    if (c.kind() == SliceWatch.Kind.DELETE) {
                        grants.remove(app);
                    } else {
                        grants.put(app, c.entry());
                        if (waiting.remove(app)) {
                            woken.add(app);
                        }
                    }
                }
                notifyAll();
            }
            woken.forEach(wake);
        });
    }

    @Override
    public void close() {
        SliceWatch<SlotGrant> w;
        synchronized (this) {
            closed = true;
            w = watch;
            notifyAll();
        }
        if (w != null) {
            w.close();
        }
    }
}
