package io.intent.leader;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.intent.store.codec.Json;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.LeaseKeeper;
import io.intent.store.etcd.StoreException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One candidate in the leader election over etcd's election API: campaigns under a lease of its own, and
 * tells its {@link Listener} when it leads (with the fencing token) and, at once, when it no longer does.
 *
 * <p>States: {@code CAMPAIGNING -> LEADING -> CAMPAIGNING ...}, and {@code CLOSED} at the end.
 * <ul>
 *   <li><b>Campaigning.</b> A fresh lease (TTL, default 5 s) kept alive every TTL/3 by a {@link LeaseKeeper};
 *       {@code campaign} blocks until the keys created before ours are gone. If the lease is lost meanwhile,
 *       the campaign is abandoned, the lease revoked, and a new campaign starts with a new lease.</li>
 *   <li><b>Leading.</b> The fence is our election key and its create revision; every dispatcher write
 *       compares it, so whatever this process believes, etcd accepts its writes only while that key exists.
 *       The term ends when the keeper's conservative local deadline passes without an acknowledged
 *       keep-alive (that is before the server can expire the lease, and etcd only revokes expired leases
 *       every 500 ms, so before anyone else can be elected), when etcd says the lease is gone, when the
 *       dispatcher reports a refused write ({@link #stepDown}), or on {@link #close()}. Then
 *       {@link Listener#lost} runs first, and the candidate campaigns again. Both calls name the term by its
 *       fence: a late {@code lost} or {@code stepDown} for an ended term never touches the next one.</li>
 *   <li><b>Closed.</b> {@link #close()} (SIGTERM) resigns: the election key is deleted at once and the standby
 *       whose campaign is waiting on it is elected within a round trip.</li>
 * </ul>
 * On connection loss nothing special happens: the keeper's deadline passes, the term ends, and the campaign
 * loop retries with backoff until etcd is back.
 */
public final class LeaderElection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

    /** What leads, as anyone can ask: the candidate's name, its election key and that key's create revision. */
    public record Leader(String name, long pid, String key, long createRevision) {
    }

    /** The value each candidate proposes in its campaign. */
    public record Candidate(String name, long pid) {
    }

    /** Told about leadership; both calls must return quickly. */
    public interface Listener {
        /** This candidate leads now; every write must be fenced with {@code fence}. Called on the election thread. */
        void elected(Fence fence);

        /**
         * The term fenced by {@code fence} is over (or may be, any moment): stop writing under it before returning.
         * Called from any thread, outside the election's lock, so it may arrive after the next term's
         * {@link #elected}: act only on the term {@code fence} names.
         */
        void lost(Fence fence, String why);
    }

    /** Where the candidate stands. */
    public enum State { CAMPAIGNING, LEADING, CLOSED }

    private final EtcdStore store;
    private final String name;
    private final Duration ttl;
    private final Listener listener;
    private final ByteSequence election;
    private final Thread thread;
    private volatile State state = State.CAMPAIGNING;
    private volatile boolean closing;
    private final boolean fenceOnly;
    private volatile Term term;

    /** One campaign and, if it wins, one term of leadership, under one lease. */
    private static final class Term {
        final long lease;
        volatile LeaseKeeper keeper;
        final CountDownLatch over = new CountDownLatch(1);
        volatile LeaderKey key;
        volatile Fence fence;
        volatile boolean resign;

        Term(long lease) {
            this.lease = lease;
        }
    }

    private LeaderElection(EtcdStore store, String name, Duration ttl, Listener listener, boolean fenceOnly) {
        this.fenceOnly = fenceOnly;
        this.store = store;
        this.name = name;
        this.ttl = ttl;
        this.listener = listener;
        this.election = ByteSequence.from(store.keys().election(), StandardCharsets.UTF_8);
        this.thread = new Thread(this::loop, "election-" + name);
        this.thread.setDaemon(true);
    }

    /** Starts campaigning in the background; returns at once. */
    public static LeaderElection start(EtcdStore store, String name, Duration ttl, Listener listener) {
        return start(store, name, ttl, listener, false);
    }

    /**
     * Like {@link #start(EtcdStore, String, Duration, Listener)}; with {@code fenceOnly} a leader ignores the loss
     * of its lease and keeps acting until etcd refuses a fenced write. That is the "zombie leader" the fencing
     * tests need (a paused process whose clock says it still leads); never use it in production.
     */
    public static LeaderElection start(EtcdStore store, String name, Duration ttl, Listener listener,
                                       boolean fenceOnly) {
        if (ttl.toSeconds() < 1) {
            throw new IllegalArgumentException("lease TTL must be at least 1 s: " + ttl);
        }
        LeaderElection e = new LeaderElection(store, name, ttl, listener, fenceOnly);
        e.thread.start();
        return e;
    }

    public State state() {
        return state;
    }

    public String name() {
        return name;
    }

    /** The fence of the current term while leading, else empty. */
    public Optional<Fence> fence() {
        Term t = term;
        return state == State.LEADING && t != null ? Optional.ofNullable(t.fence) : Optional.empty();
    }

    private void loop() {
        int failures = 0;
        while (!closing) {
            try {
                runTerm();
                failures = 0;
            } catch (RuntimeException | CampaignFailed e) {
                failures++;
                long delay = Backoff.STORE.delay(failures).toMillis();
                log.warn("{}: campaign failed ({}); again in {} ms", name, e.getMessage(), delay);
                sleep(delay);
            } catch (InterruptedException e) {
                log.warn("{}: election thread interrupted", name);
                break;
            }
        }
        state = State.CLOSED;
    }

    /** Thrown when a campaign ends without leadership for a reason worth a backoff. */
    private static final class CampaignFailed extends Exception {
        CampaignFailed(String why) {
            super(why);
        }
    }

    private void runTerm() throws InterruptedException, CampaignFailed {
        long lease = store.grantLease(ttl);
        Term live = new Term(lease);
        LeaseKeeper keeper = store.keepAlive(lease, ttl, () -> {
            if (fenceOnly && state == State.LEADING) {
                log.warn("{}: lease lost, but fence-only mode keeps acting until a write is refused", name);
            } else {
                end(live, "lease lost", false);
            }
        });
        live.keeper = keeper;
        synchronized (this) {
            term = live;
            if (closing) {
                live.over.countDown();
            }
        }
        try {
            LeaderKey key = campaign(live);
            if (key == null) {
                return;
            }
            Fence fence = new Fence(key.getKey().toString(StandardCharsets.UTF_8), key.getRevision());
            // a campaign can return after our own key vanished with the lease: check before acting on it
            var entry = store.get(fence.key(), Object.class);
            if (entry.isEmpty() || entry.get().createRevision() != fence.createRevision() || !keeper.valid()) {
                throw new CampaignFailed("elected, but election key " + fence.key() + " is already gone");
            }
            live.key = key;
            live.fence = fence;
            synchronized (this) {
                if (closing || live.over.getCount() == 0) {
                    return;
                }
                state = State.LEADING;
                log.info("{} leads: fence {}@{}, lease {} (TTL {} s)", name, fence.key(), fence.createRevision(),
                        Long.toHexString(lease), ttl.toSeconds());
                // under the lock, so that lost() of this term can never overtake its elected()
                listener.elected(fence);
            }
            live.over.await();
        } finally {
            end(live, "term over", false);
            keeper.close();
            release(live);
        }
    }

    /** Campaigns until elected (returns the key) or the term ends first (returns null). */
    private LeaderKey campaign(Term t) throws InterruptedException, CampaignFailed {
        ByteSequence proposal = ByteSequence.from(Json.write(new Candidate(name, ProcessHandle.current().pid())));
        log.info("{} campaigns with lease {}", name, Long.toHexString(t.lease));
        CompletableFuture<CampaignResponse> f = store.client().getElectionClient().campaign(election, t.lease,
                proposal);
        while (true) {
            if (t.over.getCount() == 0 || !t.keeper.valid() || closing) {
                f.cancel(true);
                return null;
            }
            try {
                return f.get(100, TimeUnit.MILLISECONDS).getLeader();
            } catch (TimeoutException e) {
                // still waiting for the keys before ours to go away
            } catch (java.util.concurrent.ExecutionException e) {
                throw new CampaignFailed(Failures.describe(Failures.unwrap(e)));
            }
        }
    }

    /** Ends a term: the listener hears it first, then the campaign loop moves on. Idempotent. */
    private void end(Term t, String why, boolean resign) {
        boolean wasLeading;
        Fence fence;
        synchronized (this) {
            if (t.over.getCount() == 0) {
                return;
            }
            t.resign |= resign;
            wasLeading = state == State.LEADING && term == t;
            if (wasLeading) {
                state = State.CAMPAIGNING;
            }
            fence = t.fence;
            t.over.countDown();
        }
        if (wasLeading) {
            log.warn("{} steps down: {}", name, why);
            try {
                listener.lost(fence, why);
            } catch (RuntimeException e) {
                log.error("leadership-lost handler failed", e);
            }
        }
    }

    /** Gives the election key and the lease back; a failure here only means the lease expires by itself. */
    private void release(Term t) {
        try {
            if (t.resign && t.key != null) {
                store.call("resign", () -> store.client().getElectionClient().resign(t.key));
            }
        } catch (StoreException e) {
            log.debug("resign failed: {}", e.getMessage());
        }
        try {
            store.revokeLease(t.lease);
        } catch (StoreException e) {
            log.debug("revoke failed: {}", e.getMessage());
        }
    }

    /**
     * Ends the term fenced by {@code fence} (e.g. the dispatcher saw a write under it refused) and campaigns again;
     * a no-op when that term is already over, so a late report never ends the next term.
     */
    public void stepDown(Fence fence, String why) {
        Term t = term;
        if (t != null && fence.equals(t.fence)) {
            end(t, why, false);
        }
    }

    /** Resigns if leading, stops campaigning, and waits (briefly) until the election key and lease are released. */
    @Override
    public void close() {
        Term t;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            t = term;
        }
        if (t != null) {
            end(t, "resigning", true);
        }
        try {
            thread.join(store.callTimeout().toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Who leads now, if anyone: the candidate key with the lowest create revision, which is what etcd's election
     * API answers too ({@link EtcdStore#elections}); works from any process.
     */
    public static Optional<Leader> whoLeads(EtcdStore store) {
        return store.elections(store.keys().leaderPrefix()).leaderOf(store.keys().election()).map(kv -> {
            Candidate c;
            try {
                c = Json.read(kv.value().getBytes(StandardCharsets.UTF_8), Candidate.class);
            } catch (RuntimeException e) {
                c = new Candidate(kv.value(), 0); // a candidate that is not one of ours proposed plain text
            }
            return new Leader(c.name(), c.pid(), kv.key(), kv.createRevision());
        });
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
