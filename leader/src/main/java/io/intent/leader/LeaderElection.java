package io.intent.leader;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.intent.store.codec.Json;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Session;
import io.intent.store.etcd.StoreException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One candidate in the leader election over etcd's election API: campaigns on the process's {@link Session} lease,
 * and tells its {@link Listener} when it leads (with the fencing token) and, at once, when it no longer does.
 *
 * <p>States: {@code CAMPAIGNING -> LEADING -> CAMPAIGNING ...}, and {@code CLOSED} at the end.
 * <ul>
 *   <li><b>Campaigning.</b> On the session's lease (TTL {@code --lease-ttl}, kept alive every TTL/3 by the
 *       session); {@code campaign} blocks until the keys created before ours are gone. If the lease is lost
 *       meanwhile, the campaign is abandoned and a new one starts on the session's next lease.</li>
 *   <li><b>Leading.</b> The fence is our election key and its create revision; every dispatcher write
 *       compares it, so whatever this process believes, etcd accepts its writes only while that key exists.
 *       The term ends when the session tells that its lease is lost (the keeper's conservative local deadline
 *       passed without an acknowledged keep-alive, which is before the server can expire the lease, and etcd
 *       only revokes expired leases every 500 ms, so before anyone else can be elected; or etcd said the lease
 *       is gone), when the dispatcher reports a refused write ({@link #stepDown}), or on {@link #close()}. Then
 *       {@link Listener#lost} runs first, the election key is resigned (so the next campaign, even on the same
 *       lease, gets a new key and a new fence), and the candidate campaigns again. Both
 *       calls name the term by its fence: a late {@code lost} or {@code stepDown} for an ended term never touches
 *       the next one.</li>
 *   <li><b>Closed.</b> {@link #close()} (SIGTERM) resigns: the election key is deleted at once and the standby
 *       whose campaign is waiting on it is elected within a round trip.</li>
 * </ul>
 * On connection loss nothing special happens: the keeper's deadline passes, the session tells, the term ends,
 * and the campaign loop retries with backoff until etcd is back.
 *
 * <p>Over 300 lines, on purpose: the term's states, its end (which must reach the listener exactly once, outside
 * the lock) and the campaign loop share one lock and one {@code Term}; split apart they would have to expose both.
 * The lease itself lives in {@link Session}.
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

    private final Session session;
    private final EtcdStore store;
    private final String name;
    private final Listener listener;
    private final ByteSequence election;
    private final Thread thread;
    private volatile State state = State.CAMPAIGNING;
    private volatile boolean closing;
    private volatile Term term;

    /** One campaign and, if it wins, one term of leadership, on one lease of the session. */
    private static final class Term {
        final long lease;
        final CountDownLatch over = new CountDownLatch(1);
        volatile LeaderKey key;
        volatile Fence fence;

        Term(long lease) {
            this.lease = lease;
        }
    }

    private LeaderElection(Session session, String name, Listener listener) {
        this.session = session;
        this.store = session.store();
        this.name = name;
        this.listener = listener;
        this.election = ByteSequence.from(store.keys().election(), StandardCharsets.UTF_8);
        this.thread = new Thread(this::loop, "election-" + name);
        this.thread.setDaemon(true);
    }

    /**
     * Starts campaigning in the background on {@code session}'s lease; returns at once. The session stays its
     * owner's: closing the election resigns but revokes nothing.
     */
    public static LeaderElection start(Session session, String name, Listener listener) {
        LeaderElection e = new LeaderElection(session, name, listener);
        session.onLoss(e::leaseLost);
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
        long lease = session.lease();
        Term live = new Term(lease);
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
            if (entry.isEmpty() || entry.get().createRevision() != fence.createRevision() || !session.valid(lease)) {
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
                        Long.toHexString(lease), session.ttl().toSeconds());
                // under the lock, so that lost() of this term can never overtake its elected()
                listener.elected(fence);
            }
            live.over.await();
        } finally {
            end(live, "term over");
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
            // polled, not only told: a loss told before this term was current must end this campaign too
            if (t.over.getCount() == 0 || !session.valid(t.lease) || closing) {
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

    /** The session lost {@code lease}: the term on it (campaign or leadership) is over. */
    private void leaseLost(long lease, String why) {
        Term t = term;
        if (t != null && t.lease == lease) {
            end(t, "lease lost: " + why);
        }
    }

    /** Ends a term: the listener hears it first, then the campaign loop moves on. Idempotent. */
    private void end(Term t, String why) {
        boolean wasLeading;
        Fence fence;
        synchronized (this) {
            if (t.over.getCount() == 0) {
                return;
            }
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

    /**
     * Gives the election key back, so the next campaign (on the same lease, or a new one) creates a new key with a
     * new fence, and a key left on a lease that is lost only by our local deadline does not block the standby until
     * etcd expires it. Resigning compares the key's create revision, so it never deletes a newer key; a failure
     * here only means the key goes with the lease.
     */
    private void release(Term t) {
        if (t.key == null) {
            return;
        }
        try {
            store.call("resign", () -> store.client().getElectionClient().resign(t.key));
        } catch (StoreException e) {
            log.debug("resign failed: {}", e.getMessage());
        }
    }

    /**
     * Ends the term fenced by {@code fence} (e.g. the dispatcher saw a write under it refused) and campaigns again;
     * a no-op when that term is already over, so a late report never ends the next term.
     */
    public void stepDown(Fence fence, String why) {
        Term t = term;
        if (t != null && fence.equals(t.fence)) {
            end(t, why);
        }
    }

    /** Resigns if leading, stops campaigning, and waits (briefly) until the election key is released. */
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
            end(t, "resigning");
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
