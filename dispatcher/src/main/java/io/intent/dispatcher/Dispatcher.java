package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Names;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.etcd.Snapshot;
import io.intent.store.etcd.StoreException;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Placement;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
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
 * write ends the term too and calls {@code onFenceLost}. It plans only once all three watches and that read
 * are in, so a half-loaded view can never delete an assignment. All state is confined to one thread.
 */
// Over 300 lines because every field is confined to one thread and shared by the watches, the store read and the
// plan; the instance health and the decision steps (Planner, Evacuation, Reschedule) live apart already.
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final int PAGE = 2000;

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
    private final KeyLayout keys;
    private final Settings settings;
    private final DispatchMetrics metrics;
    private final String leader;
    private final Consumer<Fence> onFenceLost;
    /** The current term's writer; null while standing by. */
    private volatile PlanWriter writer;
    /** The fence of the latest {@link #lead}, until its term ends; guarded by {@code this}. */
    private Fence leadFence;
    /** Bumped by every lead and stand-down, so a late lead task never revives a term that already ended. */
    private final java.util.concurrent.atomic.AtomicLong terms = new java.util.concurrent.atomic.AtomicLong();
    private final ScheduledExecutorService exec;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    // confined to exec
    private final Map<String, PlanInput.App> apps = new TreeMap<>();
    private final Map<String, HostSpec> hosts = new TreeMap<>();
    /** Hosts whose spec exists but never decoded or validated: their instances stay, they get nothing new. */
    private final Set<String> unreadable = new TreeSet<>();
    private final HostLiveness liveness;
    private final Evacuation evacuation;
    private final InstanceHealth health;
    private final TreeMap<Slot, Assignment> current = new TreeMap<>();
    private final Map<String, Placement> placements = new HashMap<>();
    /** Which inputs are in: planning waits for all watched ones, and, in a term, for the store's. */
    private final Set<Input> loaded = EnumSet.noneOf(Input.class);
    private Stage stage = Stage.COLD;
    private int failures;
    private long started = System.nanoTime();
    private ScheduledFuture<?> planTimer;
    private long planAt;
    private SliceWatch<AppIntent> appsWatch;
    private SliceWatch<HostSpec> hostsWatch;
    private SliceWatch<Liveness> liveWatch;
    private SliceWatch<AgentStatus> statusWatch;
    /** Answers the hosts' registrations and rollout slot requests in the same terms. */
    private HostSteward steward;

    /** What a plan needs: three watches, and during a term the store's assignments and placements. */
    private enum Input { APPS, HOSTS, LIVE, STORE }

    /**
     * How far this dispatcher's own thread got. Whether a term is on is {@link #writer} (stand-down comes from any
     * thread); this is what the thread itself did: a standby warms up once, a term's first plan is not coalesced.
     */
    private enum Stage {
        /** Standing by, never planned: the first complete inputs get a warm-up plan. */
        COLD,
        /** Standing by after its warm-up plan. */
        WARM,
        /** A term began: its first plan goes out as soon as the inputs are in, without coalescing. */
        FIRST_PLAN,
        /** A term planned at least once: changes are coalesced (this stays after the term ends). */
        PLANNING
    }

    private Dispatcher(EtcdStore store, String leader, Settings settings, DispatchMetrics metrics,
                       Consumer<Fence> onFenceLost) {
        this.store = store;
        this.keys = store.keys();
        this.settings = settings;
        this.metrics = metrics;
        this.leader = leader;
        this.onFenceLost = onFenceLost;
        this.liveness = new HostLiveness(settings.grace(), System.nanoTime());
        this.evacuation = new Evacuation(settings.evacuation());
        this.health = new InstanceHealth(keys.statusPrefix());
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dispatcher-" + leader);
            t.setDaemon(true);
            return t;
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
        d.appsWatch = store.watchSlice(d.keys.appsPrefix(), AppIntent.class,
                (changes, rev, relisted) -> d.post(() -> d.onApps(changes)));
        d.hostsWatch = store.watchSlice(d.keys.hostsPrefix(), HostSpec.class,
                (changes, rev, relisted) -> d.post(() -> d.onHosts(changes)));
        d.liveWatch = store.watchSlice(d.keys.livePrefix(), Liveness.class,
                (changes, rev, relisted) -> d.post(() -> d.onLive(changes)));
        d.statusWatch = store.watchSlice(d.keys.statusPrefix(), AgentStatus.class,
                (changes, rev, relisted) -> d.post(() -> d.onStatus(changes)));
        long resync = settings.resync().toMillis();
        d.exec.scheduleWithFixedDelay(d.guarded(() -> {
            if (d.writer != null) {
                d.readStore();
            }
            d.appsWatch.resync();
            d.hostsWatch.resync();
            d.liveWatch.resync();
            d.statusWatch.resync();
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
            loaded.remove(Input.STORE);
            stage = Stage.FIRST_PLAN;
            started = System.nanoTime();
            log.info("dispatching as {} under fence {}@{}", leader, fence.key(), fence.createRevision());
            readStore();
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
                failures++;
                long delay = Backoff.STORE.delay(failures).toMillis();
                log.error("dispatcher step failed; re-reading the store in {} ms", delay, e);
                loaded.remove(Input.STORE);
                schedule(this::readStore, delay);
            }
        };
    }

    private void readStore() {
        try {
            Snapshot<Assignment> assigned = store.listPaged(keys.assignPrefix(), Assignment.class, PAGE);
            Snapshot<Placement> placed = store.listPaged(keys.placementPrefix(), Placement.class, PAGE);
            current.clear();
            for (Entry<Assignment> e : assigned.entries()) {
                Slot s = slot(e.key());
                if (s == null) {
                    log.warn("ignoring {}: not of the form {}<host>/<app>", e.key(), keys.assignPrefix());
                } else {
                    if (!e.valid()) {
                        log.warn("assignment {} does not decode ({}); it will be rewritten or removed", e.key(),
                                e.error());
                    }
                    current.put(s, e.value());
                }
            }
            placements.clear();
            for (Entry<Placement> e : placed.entries()) {
                String app = KeyLayout.childName(keys.placementPrefix(), e.key());
                if (app != null && Names.valid(app)) {
                    // an undecodable placement is simply rewritten: null never equals a plan's placement
                    placements.put(app, e.value());
                }
            }
            loaded.add(Input.STORE);
            failures = 0;
            requestPlan(0);
        } catch (StoreException e) {
            failures++;
            long delay = Backoff.STORE.delay(failures).toMillis();
            log.warn("reading assignments failed ({}); retrying in {} ms", Failures.describe(e), delay);
            schedule(this::readStore, delay);
        }
    }

    private Slot slot(String key) {
        if (!key.startsWith(keys.assignPrefix())) {
            return null;
        }
        String[] parts = key.substring(keys.assignPrefix().length()).split("/", -1);
        if (parts.length != 2 || !Names.valid(parts[0]) || !Names.valid(parts[1])) {
            return null;
        }
        return new Slot(parts[0], parts[1]);
    }

    private void onApps(List<SliceWatch.Change<AppIntent>> changes) {
        apply(Input.APPS, keys.appsPrefix(), changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                apps.remove(name);
            } else if (c.entry().valid()) {
                apps.put(name, PlanInput.App.valid(name, c.entry().value(), c.entry().modRevision()));
            } else {
                apps.put(name, PlanInput.App.broken(name, c.entry().modRevision(), c.entry().error()));
            }
        });
    }

    private void onHosts(List<SliceWatch.Change<HostSpec>> changes) {
        apply(Input.HOSTS, keys.hostsPrefix(), changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                hosts.remove(name);
                unreadable.remove(name);
                return;
            }
            List<FieldError> errs = c.entry().valid() ? Validation.check(name, c.entry().value())
                    : List.of(new FieldError("", c.entry().error()));
            if (errs.isEmpty()) {
                hosts.put(name, c.entry().value());
                unreadable.remove(name);
            } else if (!hosts.containsKey(name)) {
                // never let a typo in a host spec move the host's instances: without a last good spec to keep,
                // the host keeps what it runs as it is and gets nothing new
                unreadable.add(name);
                log.warn("host spec {} is invalid ({}); its instances stay as they are, it gets nothing new",
                        c.key(), errs);
            } else {
                log.warn("host spec {} is invalid ({}); keeping its last valid spec", c.key(), errs);
            }
        });
    }

    private void onLive(List<SliceWatch.Change<Liveness>> changes) {
        long now = System.nanoTime();
        liveness.read(now);
        apply(Input.LIVE, keys.livePrefix(), changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                liveness.gone(name, now);
            } else {
                liveness.present(name);
            }
        });
    }

    /**
     * The part the three watches share: each change under {@code prefix} goes to {@code each} with its child name
     * (a key that names no valid child is logged and skipped), then the input counts as loaded and a plan is due.
     */
    private <T> void apply(Input input, String prefix, List<SliceWatch.Change<T>> changes,
                           BiConsumer<String, SliceWatch.Change<T>> each) {
        for (var c : changes) {
            String name = KeyLayout.childName(prefix, c.key());
            if (name == null || !Names.valid(name)) {
                log.warn("ignoring {}: not a valid name under {}", c.key().replaceAll("\\p{Cntrl}", "?"), prefix);
                continue;
            }
            each.accept(name, c);
        }
        loaded.add(input);
        requestPlan(coalesce());
    }

    /**
     * Follows setlive's statuses, only to know which instances run healthy: an instance on a dead host is removed
     * only once its replacement is. A change re-plans only while some host is missing, the one time it matters.
     */
    private void onStatus(List<SliceWatch.Change<AgentStatus>> changes) {
        var changed = health.apply(changes);
        if (writer != null && (changed.sick()
                || changed.ready() && !liveness.live().containsAll(hostsWithInstances()))) {
            requestPlan(coalesce());
        }
    }

    private Set<String> hostsWithInstances() {
        Set<String> out = new TreeSet<>();
        current.keySet().forEach(s -> out.add(s.host()));
        return out;
    }

    /** How long to gather changes: nothing for the first plan of a term, which has waited for its inputs already. */
    private long coalesce() {
        return stage == Stage.PLANNING ? settings.coalesce().toNanos() : 0;
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
        planTimer = exec.schedule(guarded(this::planNow), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void schedule(Runnable r, long delayMillis) {
        try {
            exec.schedule(guarded(r), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    private void planNow() {
        planTimer = null;
        PlanWriter w = writer;
        if (!loaded.containsAll(EnumSet.of(Input.APPS, Input.HOSTS, Input.LIVE))
                || w != null && !loaded.contains(Input.STORE)) {
            return;
        }
        if (w == null) {
            warmUp();
            return;
        }
        long t0 = System.nanoTime();
        if (stage == Stage.FIRST_PLAN) {
            stage = Stage.PLANNING;
            log.info("inputs loaded {} ms after start: {} apps, {} hosts, {} live, {} assignments", (t0 - started)
                    / 1_000_000, apps.size(), hosts.size(), liveness.live().size(), current.size());
        }
        Set<String> known = new TreeSet<>(hosts.keySet());
        known.addAll(unreadable);
        current.keySet().forEach(s -> known.add(s.host()));
        Set<String> graced = liveness.graced(known, t0);
        Evacuation.Verdict verdict = evacuate(known, graced, t0);
        Map<String, Placement.Rescheduled> lastMoves = lastMoves();
        Reschedule.Decision moves = Reschedule.decide(apps, current, health.sick(), lastMoves, java.time.Instant.now());
        moves.moves().forEach((slot, m) -> log.warn("moving sick instance of {} off {} ({})", slot.app(),
                slot.host(), m.reason()));
        PlanInput in = new PlanInput(new TreeMap<>(apps), new TreeMap<>(hosts), liveness.live(), graced, current,
                health.healthy(current, liveness::isLive), verdict.held(), missingSeconds(known, t0), unreadable)
                .withMoves(moves.moves(), lastMoves);
        Plan plan = Planner.plan(in);
        Changes changes = Changes.between(current, placements, plan);
        long t1 = System.nanoTime();
        metrics.planned(t1 - t0, plan.placements().values().stream().filter(p -> p.pendingReason() != null).count());
        if (changes.isEmpty()) {
            metrics.round(t1 - t0);
        } else if (!write(w, changes, t0, t1)) {
            return;
        }
        wakeForNextTurn(known, verdict, moves);
    }

    /** Plans again when a host's grace period ends, a held host's turn comes or a sick instance's window is over. */
    private void wakeForNextTurn(Set<String> known, Evacuation.Verdict verdict, Reschedule.Decision moves) {
        long wake = Math.min(liveness.nextDeath(known, System.nanoTime()), verdict.nextTurn());
        if (moves.nextTurn() != null) {
            long untilDue = java.time.Duration.between(java.time.Instant.now(), moves.nextTurn()).toNanos();
            wake = Math.min(wake, System.nanoTime() + Math.max(0, untilDue));
        }
        if (wake != Long.MAX_VALUE) {
            // even if nothing else changes
            requestPlan(Math.max(0, wake - System.nanoTime()) + TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /**
     * Writes a plan's changes under the term's fence and takes them as the store's state; false when the term
     * ended meanwhile or the write failed (then the store is read again before the next plan).
     */
    private boolean write(PlanWriter w, Changes changes, long t0, long t1) {
        try {
            int n = w.write(changes, () -> active() && writer == w);
            if (!active() || writer != w) {
                return false;
            }
            current.putAll(changes.assignmentPuts());
            changes.assignmentDeletes().forEach(current::remove);
            placements.putAll(changes.placementPuts());
            changes.placementDeletes().forEach(placements::remove);
            changes.placementPuts().forEach((app, p) -> {
                if (p.pendingReason() != null) {
                    log.info("app {} pending: {}", app, p.pendingReason());
                }
            });
            long t2 = System.nanoTime();
            metrics.wrote(n, t2 - t1);
            metrics.round(t2 - t0);
            log.info("plan: {} apps on {} hosts; wrote {} puts, {} deletes of assignments and {} placements"
                            + " (plan {} ms, write {} ms)", apps.size(), hosts.size(),
                    changes.assignmentPuts().size(), changes.assignmentDeletes().size(),
                    changes.placementPuts().size() + changes.placementDeletes().size(), (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000);
            return true;
        } catch (FenceLostException e) {
            metrics.rejected();
            log.warn("{}: this term is over", e.getMessage());
            if (writer == w && standDown(w.fence())) {
                onFenceLost.accept(w.fence());
            }
            return false;
        } catch (StoreException e) {
            // the batch in flight may or may not have landed: read the store again, then plan again
            log.warn("writing the plan failed ({}); re-reading the store", Failures.describe(e));
            loaded.remove(Input.STORE);
            failures++;
            schedule(this::readStore, Backoff.STORE.delay(failures).toMillis());
            return false;
        }
    }

    /** Each app's last move of a sick instance, as recorded in its placement. */
    private Map<String, Placement.Rescheduled> lastMoves() {
        Map<String, Placement.Rescheduled> out = new TreeMap<>();
        placements.forEach((app, p) -> {
            if (p != null && p.rescheduled() != null) {
                out.put(app, p.rescheduled());
            }
        });
        return out;
    }

    /** Asks the evacuation policy which dead hosts keep their instances, and reports the mode when it changes. */
    private Evacuation.Verdict evacuate(Set<String> known, Set<String> graced, long now) {
        Set<String> counted = new TreeSet<>(unreadable);
        hosts.forEach((name, spec) -> {
            if (!spec.drainOrDefault()) {
                counted.add(name);
            }
        });
        Set<String> unreachable = new TreeSet<>(known);
        unreachable.removeAll(liveness.live());
        Map<String, Long> dead = new TreeMap<>();
        Set<String> movable = new TreeSet<>();
        current.forEach((slot, a) -> {
            PlanInput.App app = apps.get(slot.app());
            if (app == null || app.intent() == null || !app.intent().statefulOrDefault()) {
                movable.add(slot.host());
            }
        });
        for (String h : unreachable) {
            if (!graced.contains(h) && movable.contains(h) && hosts.containsKey(h)) {
                dead.put(h, liveness.missingSince(h));
            }
        }
        Evacuation.Verdict v = evacuation.decide(counted, unreachable, dead, now);
        if (v.disruption() != metrics.disruption()) {
            if (v.disruption()) {
                log.warn("disruption mode: {} of {} hosts unreachable (threshold {} %): no instance moves off an"
                        + " unreachable host until more are back", v.unreachable(), v.counted(),
                        Math.round(settings.evacuation().threshold() * 100));
            } else {
                log.info("disruption mode over: {} of {} hosts unreachable", v.unreachable(), v.counted());
            }
        }
        metrics.evacuation(v);
        return v;
    }

    private java.util.SortedMap<String, Long> missingSeconds(Set<String> known, long now) {
        java.util.SortedMap<String, Long> out = new TreeMap<>();
        for (String h : known) {
            if (!liveness.isLive(h)) {
                out.put(h, TimeUnit.NANOSECONDS.toSeconds(now - liveness.missingSince(h)));
            }
        }
        return out;
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
        PlanInput in = new PlanInput(new TreeMap<>(apps), new TreeMap<>(hosts), liveness.live(), Set.of(), current);
        Changes.between(current, placements, Planner.plan(in));
        log.info("standby {} follows {} apps, {} hosts, {} live (warm-up plan {} ms)", leader, apps.size(),
                hosts.size(), liveness.live().size(), (System.nanoTime() - t0) / 1_000_000);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (steward != null) {
            steward.close();
        }
        for (SliceWatch<?> w : new SliceWatch<?>[] {appsWatch, hostsWatch, liveWatch, statusWatch}) {
            if (w != null) {
                w.close();
            }
        }
        exec.shutdownNow();
    }
}
