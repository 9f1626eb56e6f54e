package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.etcd.StoreException;
import io.intent.store.model.AgentStatus;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's own thread: when its inputs are in, it plans, and during a term writes only the difference,
 * re-planning on every change (bursts coalesced). How far it got is one explicit {@link Stage}; whether a term is
 * on is the {@link Runner}'s, since a term ends from any thread. Confined to the dispatcher's thread.
 */
final class PlanLoop {
    private static final Logger log = LoggerFactory.getLogger(PlanLoop.class);

    /** What the loop needs of the dispatcher that runs it. */
    interface Runner {
        /** The current term's writer; null while standing by, once the term ended or once closed. */
        PlanWriter term();

        /** Runs {@code step} on the dispatcher's thread after {@code delayNanos}; null when stopping. */
        ScheduledFuture<?> schedule(Runnable step, long delayNanos);

        /** etcd refused a write fenced by {@code w}'s term: that term is over. */
        void refused(PlanWriter w);
    }

    /**
     * How far this thread got. A standby warms up once; a term reads the store before it plans, plans at once the
     * first time and coalesces changes after that; a write whose outcome is unknown (or a failed step) puts the
     * store's view in doubt until it is read again.
     */
    enum Stage {
        /** Standing by, never planned: the first complete inputs get a warm-up plan. */
        COLD,
        /** Standing by after its warm-up plan. */
        WARM,
        /** A term began: no plan until its read of {@code assign/} and {@code placement/} is in. */
        READING,
        /** The term's store read is in: its first plan goes out as soon as the watches are in, not coalesced. */
        FIRST_PLAN,
        /** The term planned at least once: changes are coalesced (this stays after the term ends). */
        PLANNING,
        /** The term planned, then its view of the store fell in doubt: no plan until it is read again. */
        REREADING;

        /** The stage once the store's view is in doubt. */
        Stage inDoubt() {
            return switch (this) {
                case FIRST_PLAN -> READING;
                case PLANNING -> REREADING;
                default -> this;
            };
        }

        /** The stage once the store has been read. */
        Stage read() {
            return switch (this) {
                case READING -> FIRST_PLAN;
                case REREADING -> PLANNING;
                default -> this;
            };
        }

        /** Whether a term may plan: its view of the store is in. */
        boolean storeIn() {
            return this == FIRST_PLAN || this == PLANNING;
        }
    }

    private final String leader;
    private final Dispatcher.Settings settings;
    private final DispatchMetrics metrics;
    private final Runner runner;
    private final WatchedPrefixes watched;
    private final String[] planInputs;
    private final FleetView fleet;
    private final StoreView store;
    private final Evacuation evacuation;
    private Stage stage = Stage.COLD;
    private int failures;
    private long started = System.nanoTime();
    private ScheduledFuture<?> planTimer;
    private long planAt;

    PlanLoop(StoreView store, KeyLayout keys, String leader, Dispatcher.Settings settings, DispatchMetrics metrics,
             WatchedPrefixes watched, Runner runner) {
        this.leader = leader;
        this.settings = settings;
        this.metrics = metrics;
        this.runner = runner;
        this.watched = watched;
        this.planInputs = new String[] {keys.appsPrefix(), keys.hostsPrefix(), keys.livePrefix()};
        this.fleet = new FleetView(keys, new HostLiveness(settings.grace(), System.nanoTime()));
        this.store = store;
        this.evacuation = new Evacuation(settings.evacuation());
    }

    FleetView fleet() {
        return fleet;
    }

    /** Apps, host specs or liveness changed: a plan is due. */
    void inputChanged() {
        requestPlan(coalesce());
    }

    /**
     * Follows setlive's statuses, only to know which instances run healthy: an instance on a dead host is removed
     * only once its replacement is. A change re-plans only while some host is missing, the one time it matters.
     */
    void onStatus(List<SliceWatch.Change<AgentStatus>> changes) {
        var changed = fleet.onStatus(changes);
        if (runner.term() != null && (changed.sick()
                || changed.ready() && !fleet.liveness().live().containsAll(store.hostsWithInstances()))) {
            requestPlan(coalesce());
        }
    }

    /** A term began: read the store, then plan at once. */
    void termBegan() {
        stage = Stage.READING;
        started = System.nanoTime();
        readStore();
    }

    /** The periodic resync: a term re-reads the store. */
    void resync() {
        if (runner.term() != null) {
            readStore();
        }
    }

    /**
     * A step failed unexpectedly (a bug, not bad input: bad input is a pending placement): a fresh start from the
     * store with backoff, never a dead thread.
     */
    void failed(RuntimeException e) {
        failures++;
        long delay = Backoff.STORE.delay(failures).toMillis();
        log.error("dispatcher step failed; re-reading the store in {} ms", delay, e);
        stage = stage.inDoubt();
        runner.schedule(this::readStore, TimeUnit.MILLISECONDS.toNanos(delay));
    }

    private void readStore() {
        try {
            store.read();
            stage = stage.read();
            failures = 0;
            requestPlan(0);
        } catch (StoreException e) {
            failures++;
            long delay = Backoff.STORE.delay(failures).toMillis();
            log.warn("reading assignments failed ({}); retrying in {} ms", Failures.describe(e), delay);
            runner.schedule(this::readStore, TimeUnit.MILLISECONDS.toNanos(delay));
        }
    }

    /** How long to gather changes: nothing for the first plan of a term, which has waited for its inputs already. */
    private long coalesce() {
        return stage == Stage.PLANNING || stage == Stage.REREADING ? settings.coalesce().toNanos() : 0;
    }

    /** Plans within {@code delayNanos}, or sooner if a plan is already due sooner. */
    private void requestPlan(long delayNanos) {
        long at = System.nanoTime() + delayNanos;
        if (planTimer != null && !planTimer.isDone()) {
            if (planAt <= at) {
                return;
            }
            planTimer.cancel(false);
        }
        planAt = at;
        planTimer = runner.schedule(this::planNow, delayNanos);
    }

    private void planNow() {
        planTimer = null;
        PlanWriter w = runner.term();
        if (!watched.listed(planInputs)) {
            return;
        }
        if (w == null) {
            warmUp();
            return;
        }
        if (!stage.storeIn()) {
            return;
        }
        long t0 = System.nanoTime();
        if (stage == Stage.FIRST_PLAN) {
            stage = Stage.PLANNING;
            log.info("inputs loaded {} ms after start: {} apps, {} hosts, {} live, {} assignments", (t0 - started)
                    / 1_000_000, fleet.apps().size(), fleet.hosts().size(), fleet.liveness().live().size(),
                    store.current().size());
        }
        PlanRound round = PlanRound.plan(fleet, store, evacuation, settings.evacuation().threshold(), metrics, t0);
        long t1 = System.nanoTime();
        metrics.planned(t1 - t0, round.pending());
        if (round.changes.isEmpty()) {
            metrics.round(t1 - t0);
        } else if (!write(w, round.changes, t0, t1)) {
            return;
        }
        long next = round.nextTurn(fleet.liveness());
        if (next >= 0) {
            // even if nothing else changes
            requestPlan(next);
        }
    }

    /**
     * Writes a plan's changes under the term's fence and takes them as the store's state; false when the term
     * ended meanwhile or the write failed (then the store is read again before the next plan).
     */
    private boolean write(PlanWriter w, Changes changes, long t0, long t1) {
        try {
            int n = w.write(changes, () -> runner.term() == w);
            if (runner.term() != w) {
                return false;
            }
            store.take(changes);
            changes.placementPuts().forEach((app, p) -> {
                if (p.pendingReason() != null) {
                    log.info("app {} pending: {}", app, p.pendingReason());
                }
            });
            long t2 = System.nanoTime();
            metrics.wrote(n, t2 - t1);
            metrics.round(t2 - t0);
            log.info("plan: {} apps on {} hosts; wrote {} puts, {} deletes of assignments and {} placements"
                            + " (plan {} ms, write {} ms)", fleet.apps().size(), fleet.hosts().size(),
                    changes.assignmentPuts().size(), changes.assignmentDeletes().size(),
                    changes.placementPuts().size() + changes.placementDeletes().size(), (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000);
            return true;
        } catch (FenceLostException e) {
            metrics.rejected();
            log.warn("{}: this term is over", e.getMessage());
            runner.refused(w);
            return false;
        } catch (StoreException e) {
            // the batch in flight may or may not have landed: read the store again, then plan again
            log.warn("writing the plan failed ({}); re-reading the store", Failures.describe(e));
            stage = stage.inDoubt();
            failures++;
            runner.schedule(this::readStore, TimeUnit.MILLISECONDS.toNanos(Backoff.STORE.delay(failures).toMillis()));
            return false;
        }
    }

    /**
     * A standby plans once, without writing, when its inputs are first complete: that loads and warms the
     * planner's code, so the first plan of a term is not also the first plan of the process.
     */
    private void warmUp() {
        if (stage != Stage.COLD) {
            return; // warm already, or the code was loaded by a term's plans
        }
        stage = Stage.WARM;
        long t0 = System.nanoTime();
        PlanInput in = new PlanInput(new TreeMap<>(fleet.apps()), new TreeMap<>(fleet.hosts()),
                fleet.liveness().live(), Set.of(), store.current());
        Changes.between(store.current(), store.placements(), Planner.plan(in));
        log.info("standby {} follows {} apps, {} hosts, {} live (warm-up plan {} ms)", leader, fleet.apps().size(),
                fleet.hosts().size(), fleet.liveness().live().size(), (System.nanoTime() - t0) / 1_000_000);
    }
}
