package io.intent.store.etcd;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's one etcd lease, like etcd's {@code concurrency.Session}: granted on first use, kept alive every
 * TTL/3 by a {@link LeaseKeeper}, and replaced by a fresh lease on the first use after it is lost. Everything the
 * process keeps alive hangs on it (a host's liveness, setlive's rollout requests and endpoints, a leader
 * candidate's election key); each user hears of every lost lease through {@link #onLoss} and, where it needs one,
 * asks {@link #lease()} again and puts its keys back on the new lease.
 *
 * <p>Unlike etcd's Session, which is done for good once its lease is lost, this one renews itself: the users of a
 * long-running process would otherwise each have to rebuild it, and would race to do so.
 */
public class Session implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** Told once per lease that it is lost (or may be, any moment), from any thread: must return quickly. */
    public interface LossListener {
        void lost(long lease, String why);
    }

    /** One granted lease, and whether its loss has been told. */
    private record Held(long id, LeaseKeeper keeper, AtomicBoolean told) {
    }

    private final EtcdStore store;
    private final Duration ttl;
    private final List<LossListener> listeners = new CopyOnWriteArrayList<>();
    private volatile Held held;
    private boolean ended;

    protected Session(EtcdStore store, Duration ttl) {
        if (ttl.toSeconds() < 1) {
            throw new IllegalArgumentException("lease TTL must be at least 1 s: " + ttl);
        }
        this.store = store;
        this.ttl = ttl;
    }

    /** A session on {@code store} whose leases have {@code ttl}; nothing is granted before the first {@link #lease()}. */
    public static Session open(EtcdStore store, Duration ttl) {
        return new Session(store, ttl);
    }

    public EtcdStore store() {
        return store;
    }

    public Duration ttl() {
        return ttl;
    }

    /**
     * The id of a lease that is alive now (by the keeper's conservative deadline): the current one, or a new one
     * when it was lost (its loss is told first). Throws {@link StoreException} when etcd does not answer, and
     * {@link IllegalStateException} once the session is closed or abandoned.
     */
    public long lease() {
        Held lost = null;
        long id;
        synchronized (this) {
            if (ended) {
                throw new IllegalStateException("the process's etcd session is closed");
            }
            Held h = held;
            if (h == null || !h.keeper().valid()) {
                if (h != null) {
                    // the keeper's own check may not have run yet: its loss is told here, once
                    h.keeper().close();
                    lost = h;
                    held = null;
                }
                AtomicBoolean told = new AtomicBoolean();
                long granted = store.grantLease(ttl);
                Held[] self = new Held[1];
                LeaseKeeper keeper = store.keepAlive(granted, ttl, () -> tell(self[0], "lease lost"));
                self[0] = new Held(granted, keeper, told);
                held = self[0];
                log.info("session lease {} granted (TTL {} s)", Long.toHexString(granted), ttl.toSeconds());
            }
            id = held.id();
        }
        if (lost != null) {
            tell(lost, "lease lost");
        }
        return id;
    }

    /** True while {@code lease} is this session's current lease and surely alive (no etcd call). */
    public boolean valid(long lease) {
        Held h = held;
        return h != null && h.id() == lease && h.keeper().valid();
    }

    /** Adds a listener told about each lease this session loses, or gives up when closed. */
    public void onLoss(LossListener listener) {
        listeners.add(listener);
    }

    private void tell(Held h, String why) {
        if (h == null || !h.told().compareAndSet(false, true)) {
            return;
        }
        for (LossListener l : listeners) {
            try {
                l.lost(h.id(), why);
            } catch (RuntimeException e) {
                log.error("lease-loss listener failed", e);
            }
        }
    }

    /** True once the session is closed or abandoned: no lease follows a loss any more. */
    public synchronized boolean ended() {
        return ended;
    }

    /**
     * Stops keeping the lease alive without revoking it, like etcd's {@code Orphan}: what hangs on it lives on for
     * the TTL, long enough for the next process (a node replacing itself) to take it over. The session is then
     * over: a later {@link #close()} revokes nothing.
     */
    public void abandon() {
        end(false);
    }

    /** Revokes the lease, so everything on it goes at once (it expires after the TTL if etcd does not answer). */
    @Override
    public void close() {
        end(true);
    }

    private void end(boolean revoke) {
        Held h;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            h = held;
            held = null;
        }
        if (h == null) {
            return;
        }
        h.keeper().close();
        if (revoke) {
            try {
                store.revokeLease(h.id());
            } catch (RuntimeException e) {
                log.debug("revoking session lease {} failed: {}", Long.toHexString(h.id()), Failures.describe(e));
            }
        }
        tell(h, revoke ? "session closed" : "session abandoned");
    }
}
