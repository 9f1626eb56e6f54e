package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher of one leader candidate: follows apps, host specs and liveness all the time (a hot standby),
 * and while it leads re-plans on every change (bursts coalesced) and writes only the difference between the
 * plan and the store, fenced by the term's token.
 *
 * <p>Lifecycle: {@link #follow} starts it as a standby: it watches, tracks host liveness (so a new leader
 * already knows how long a host has been gone), and plans once without writing to load and warm its code.
 * {@link #lead} begins a term with a fence: it reads {@code assign/} and {@code placement/} (in pages), then
 * plans and writes, trusting its own writes until the next resync or a write whose outcome is unknown.
 * {@link #standDown} ends the term of a fence at once, from any thread: no transaction starts after it returns, and a
 * late stand-down for a term that already gave way to the next one is ignored. A refused
 * write ends the term too and calls {@code onFenceLost}. It plans only once every followed prefix (apps, hosts,
 * live, status) is listed and that read is in, so a half-loaded view can never delete an assignment. All state is confined to one thread.
 *
 * <p>This class is the term and the thread; what it follows is {@link FleetView} (fed by {@link WatchedPrefixes}),
 * the store's assignments {@link StoreView}, one plan {@link PlanRound} and the stages of planning {@link PlanLoop}.
 */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    /**
     * @param grace      how long a host's liveness key may be missing before its instances move
     * @param coalesce   how long to gather changes before planning
     * @param resync     how often to re-read the store's assignments and placements in full
     * @param evacuation when instances may move off dead hosts at all (disruption mode, rate limit)
     */
    public record Settings(Duration grace, Duration coalesce, Duration resync, Evacuation.Limits evacuation) {
        public Settings(Duration grace, Duration coalesce, Duration resync) {
            this(grace, coalesce, resync, Evacuation.Limits.defaults());
        }

        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(30), Duration.ofMillis(50), Duration.ofMinutes(5));
        }

        public Settings withGrace(Duration g) {
            return new Settings(g, coalesce, resync, evacuation);
        }

        public Settings withCoalesce(Duration c) {
            return new Settings(grace, c, resync, evacuation);
        }

        public Settings withEvacuation(Evacuation.Limits limits) {
            return new Settings(grace, coalesce, resync, limits);
        }
    }

    private final EtcdStore store;
    private final String leader;
    private final Consumer<Fence> onFenceLost;
    /** The current term's writer; null while standing by. */
    private volatile PlanWriter writer;
    /** The fence of the latest {@link #lead}, until its term ends; guarded by {@code this}. */
    private Fence leadFence;
    /** Bumped by every lead and stand-down, so a late lead task never revives a term that already ended. */
    private final AtomicLong terms = new AtomicLong();
    private final ScheduledExecutorService exec;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final WatchedPrefixes watched;
    /** Confined to exec. */
    private final PlanLoop loop;
    /** Answers the hosts' registrations and rollout slot requests in the same terms. */
    private HostSteward steward;

    private Dispatcher(EtcdStore store, String leader, Settings settings, DispatchMetrics metrics,
                       Consumer<Fence> onFenceLost) {
        this.store = store;
        this.leader = leader;
        this.onFenceLost = onFenceLost;
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dispatcher-" + leader);
            t.setDaemon(true);
            return t;
        });
        this.watched = new WatchedPrefixes(store, this::post);
        this.loop = new PlanLoop(new StoreView(store), store.keys(), leader, settings, metrics, watched,
                new PlanLoop.Runner() {
                    @Override
                    public PlanWriter term() {
                        return active() ? writer : null;
                    }

                    @Override
                    public ScheduledFuture<?> schedule(Runnable step, long delayNanos) {
                        return Dispatcher.this.schedule(step, delayNanos);
                    }

                    @Override
                    public void refused(PlanWriter w) {
                        if (writer == w && standDown(w.fence())) {
                            onFenceLost.accept(w.fence());
                        }
                    }
                });
    }

    /** Starts dispatching under {@code fence} at once: {@link #follow} then {@link #lead}. */
    public static Dispatcher start(EtcdStore store, Fence fence, String leader, Settings settings,
                                   DispatchMetrics metrics, Consumer<Fence> onFenceLost) {
        Dispatcher d = follow(store, leader, settings, metrics, onFenceLost);
        d.lead(fence);
        return d;
    }

    /**
     * Starts following the store as a standby of candidate {@code leader}; returns at once.
     *
     * @param onFenceLost called (on the dispatcher's thread) with the term's fence when etcd refuses a write
     *                    fenced by it: that term is over
     */
    public static Dispatcher follow(EtcdStore store, String leader, Settings settings, DispatchMetrics metrics,
                                    Consumer<Fence> onFenceLost) {
        Dispatcher d = new Dispatcher(store, leader, settings, metrics, onFenceLost);
        d.steward = HostSteward.follow(store);
        KeyLayout keys = store.keys();
        FleetView fleet = d.loop.fleet();
        d.watched.follow(keys.appsPrefix(), AppIntent.class, changes -> {
            fleet.onApps(changes);
            d.loop.inputChanged();
        });
        d.watched.follow(keys.hostsPrefix(), HostSpec.class, changes -> {
            fleet.onHosts(changes);
            d.loop.inputChanged();
        });
        d.watched.follow(keys.livePrefix(), Liveness.class, changes -> {
            fleet.onLive(changes);
            d.loop.inputChanged();
        });
        d.watched.follow(keys.statusPrefix(), AgentStatus.class, d.loop::onStatus);
        long resync = settings.resync().toMillis();
        d.exec.scheduleWithFixedDelay(d.guarded(() -> {
            d.loop.resync();
            d.watched.resync();
        }), resync, resync, TimeUnit.MILLISECONDS);
        return d;
    }

    /** Begins a term: from now on plans are written, fenced by {@code fence}. */
    public void lead(Fence fence) {
        PlanWriter w = new PlanWriter(store, fence, leader);
        long term;
        synchronized (this) {
            leadFence = fence;
            term = terms.incrementAndGet();
            steward.lead(fence);
        }
        post(() -> {
            synchronized (this) {
                // checked and set together, so a stand-down between the two cannot be undone
                if (terms.get() != term) {
                    return;
                }
                writer = w;
            }
            log.info("dispatching as {} under fence {}@{}", leader, fence.key(), fence.createRevision());
            loop.termBegan();
        });
    }

    /**
     * Ends the term of {@code fence} at once, from any thread: no transaction starts after this returns. Returns
     * false and changes nothing when {@code fence} is not the latest {@link #lead}'s: a stand-down that arrives
     * late, after the next term began, must not stop that next term.
     */
    public boolean standDown(Fence fence) {
        PlanWriter w;
        synchronized (this) {
            steward.standDown(fence);
            if (!fence.equals(leadFence)) {
                log.info("{}: ignoring a late stand-down for fence {}@{}", leader, fence.key(), fence.createRevision());
                return false;
            }
            leadFence = null;
            terms.incrementAndGet();
            w = writer;
            writer = null;
        }
        if (w != null) {
            log.info("{} stops dispatching under fence {}@{}", leader, w.fence().key(), w.fence().createRevision());
        }
        return true;
    }

    /** True while a term is on and its writes are not known to be refused. */
    public boolean leading() {
        return writer != null;
    }

    /** The current term's fence, or null while standing by. */
    public Fence fence() {
        PlanWriter w = writer;
        return w == null ? null : w.fence();
    }

    private boolean active() {
        return !closed.get();
    }

    private void post(Runnable r) {
        if (!active()) {
            return;
        }
        try {
            exec.execute(guarded(r));
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    /**
     * Runs a step only while active, and turns an unexpected failure (a bug, not bad input: bad input is a
     * pending placement) into a logged error and a fresh start from the store with backoff, never a dead thread.
     */
    private Runnable guarded(Runnable r) {
        return () -> {
            if (!active()) {
                return;
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                if (!active()) {
                    return;
                }
                loop.failed(e);
            }
        };
    }

    private ScheduledFuture<?> schedule(Runnable r, long delayNanos) {
        try {
            return exec.schedule(guarded(r), delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null; // stopping
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (steward != null) {
            steward.close();
        }
        watched.close();
        exec.shutdownNow();
    }
}
