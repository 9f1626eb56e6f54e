package io.intent.store.converge;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Names;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The converge kit: runs one {@link Reconciler} against one host's slice. It owns the slice watch, a
 * de-duplicating work queue keyed by name (one reconcile per name at a time), retries with capped
 * exponential backoff and jitter, a periodic full resync, and status reporting at
 * {@code /intent/status/<host>/<name>/<agent>}, written only when it changed.
 */
public final class Converger<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Converger.class);

    /** Tunables; {@link #defaults()} suits production. */
    public record Settings(int workers, Duration resync, Duration waitingRetry, Backoff backoff,
                           Duration shutdownGrace) {
        public static Settings defaults() {
            // the grace fits in AgentRuntime's stop budget; a reconcile cut off is redone at the next start
            return new Settings(2, Duration.ofSeconds(30), Duration.ofSeconds(2), Backoff.RECONCILE,
                    Duration.ofSeconds(5));
        }

        public Settings withWorkers(int n) {
            return new Settings(n, resync, waitingRetry, backoff, shutdownGrace);
        }

        public Settings withResync(Duration d) {
            return new Settings(workers, d, waitingRetry, backoff, shutdownGrace);
        }

        public Settings withBackoff(Backoff b) {
            return new Settings(workers, resync, waitingRetry, b, shutdownGrace);
        }

        public Settings withWaitingRetry(Duration d) {
            return new Settings(workers, resync, d, backoff, shutdownGrace);
        }
    }

    private final EtcdStore store;
    private final KeyLayout keys;
    private final String host;
    private final String slice;
    private final Class<T> type;
    private final Reconciler<T> reconciler;
    private final Settings settings;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final WorkQueue queue;
    private final List<Thread> workers = new ArrayList<>();
    private final Map<String, Entry<T>> desired = new ConcurrentHashMap<>();
    private final Map<String, AgentStatus> written = new ConcurrentHashMap<>();
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
    /** Per failing name, when its backoff runs out (System.nanoTime): {@link ReconcileContext#backingOff}. */
    private final Map<String, Long> retryAt = new ConcurrentHashMap<>();
    private final Map<String, Entry<T>> desiredView = java.util.Collections.unmodifiableMap(desired);
    private final AtomicBoolean running = new AtomicBoolean();
    /** Guards start against close, so a converger closed before or during its start never starts working. */
    private final Object lifecycle = new Object();
    private boolean closed;
    private final AtomicInteger reconciles = new AtomicInteger();
    private final Counter okCounter;
    private final Counter failCounter;
    private final Counter statusWrites;
    private final Timer duration;
    private final Timer convergeLatency;
    /** Names of the first snapshot not yet reconciled once: the agent is ready when none is left. */
    private final java.util.Set<String> firstPass = ConcurrentHashMap.newKeySet();
    private volatile boolean firstPassListed;
    /** Per name, the mod revision last seen and when (System.nanoTime): the start of its converge latency. */
    private final Map<String, long[]> seen = new ConcurrentHashMap<>();
    private volatile SliceWatch<T> watch;
    /** In the one-shot mode, when each name not yet done is due next (System.nanoTime); null in the daemon. */
    private volatile Map<String, Long> onceDue;
    private volatile Instant lastStoreContact = Instant.EPOCH;
    /** True once the slice has been read: before that, a name missing from {@link #desired} means "unknown". */
    private volatile boolean synced;

    public Converger(EtcdStore store, String host, String slice, Class<T> type, Reconciler<T> reconciler,
                     Settings settings, MeterRegistry metrics) {
        this.store = store;
        this.keys = store.keys();
        this.host = Names.require("host", host);
        this.slice = slice;
        this.type = type;
        this.reconciler = reconciler;
        this.settings = settings;
        this.clock = Clock.systemUTC();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, reconciler.agent() + "-timer");
            t.setDaemon(true);
            return t;
        });
        this.queue = new WorkQueue(timer);
        String agent = reconciler.agent();
        this.okCounter = Counter.builder("intent_reconcile_total").tag("agent", agent).tag("result", "ok")
                .register(metrics);
        this.failCounter = Counter.builder("intent_reconcile_total").tag("agent", agent).tag("result", "error")
                .register(metrics);
        this.statusWrites = Counter.builder("intent_status_writes_total").tag("agent", agent).register(metrics);
        this.duration = Timer.builder("intent_reconcile_seconds").tag("agent", agent)
                .description("time of one reconcile call")
                .serviceLevelObjectives(ProcessMetrics.RECONCILE_BUCKETS).register(metrics);
        this.convergeLatency = Timer.builder("intent_converge_seconds").tag("agent", agent)
                .description("from an intent revision seen in the watch to this agent's status READY for it")
                .serviceLevelObjectives(ProcessMetrics.CONVERGE_BUCKETS).register(metrics);
        io.micrometer.core.instrument.Gauge.builder("intent_unconverged_oldest_seconds", seen,
                        m -> m.values().stream().mapToLong(v -> System.nanoTime() - v[1]).max().orElse(0) / 1e9)
                .tag("agent", agent)
                .description("age of the oldest intent revision this agent has seen but not yet reported READY for")
                .register(metrics);
        io.micrometer.core.instrument.Gauge.builder("intent_failing_instances", attempts,
                        m -> m.values().stream().filter(n -> n >= 3).count())
                .tag("agent", agent)
                .description("instances whose last three or more reconciles failed in a row (crash loops included)")
                .register(metrics);
        metrics.gauge("intent_queue_depth", java.util.List.of(io.micrometer.core.instrument.Tag.of("agent", agent)),
                queue, WorkQueue::depth);
        reconciler.bind(new Context());
    }

    /** The handle {@link Reconciler#bind} gets. */
    private final class Context implements ReconcileContext<T> {
        @Override
        public void requeue(String name) {
            enqueue(name);
        }

        @Override
        public void requeue(String name, Duration after) {
            Map<String, Long> due = onceDue;
            if (due != null) {
                due.computeIfPresent(name, (k, v) -> System.nanoTime() + after.toNanos());
                return;
            }
            queue.addAfter(name, after);
        }

        @Override
        public Map<String, Entry<T>> desired() {
            return desiredView;
        }

        @Override
        public boolean synced() {
            return synced;
        }

        @Override
        public boolean backingOff(String name) {
            Long until = retryAt.get(name);
            return until != null && System.nanoTime() - until < 0;
        }
    }

    /** Loads the statuses already written (so a restart rewrites nothing), then starts watching and working. */
    public Converger<T> start() {
        synchronized (lifecycle) {
            if (closed || !running.compareAndSet(false, true)) {
                return this;
            }
        }
        loadWrittenStatuses();
        // a close() that came while the statuses were read (SIGTERM during start-up) must see no worker start
        synchronized (lifecycle) {
            if (closed) {
                return this;
            }
            watch = store.watchSlice(slice, type, this::onChanges);
            reconciler.wakeWith(this::enqueue);
            int n = reconciler.workers() > 0 ? reconciler.workers() : settings.workers();
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(this::work, reconciler.agent() + "-worker-" + i);
                t.start();
                workers.add(t);
            }
            long period = settings.resync().toMillis();
            timer.scheduleWithFixedDelay(this::resync, period, period, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private void loadWrittenStatuses() {
        try {
            var snap = store.list(keys.statusSlice(host), AgentStatus.class);
            for (var e : snap.entries()) {
                if (e.valid() && reconciler.agent().equals(e.value().agent())) {
                    String rest = e.key().substring(keys.statusSlice(host).length());
                    int slash = rest.indexOf('/');
                    if (slash > 0) {
                        written.put(rest.substring(0, slash), e.value());
                    }
                }
            }
            lastStoreContact = clock.instant();
        } catch (RuntimeException e) {
            log.warn("could not read earlier statuses ({}); they will be rewritten", Failures.describe(e));
        }
    }

    /** Waits until the first snapshot of the slice has been seen. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        SliceWatch<T> w = watch;
        return w != null && w.awaitReady(timeout);
    }

    private void onChanges(List<SliceWatch.Change<T>> changes, long revision, boolean relisted) {
        lastStoreContact = clock.instant();
        boolean first = !firstPassListed;
        long now = System.nanoTime();
        for (var c : changes) {
            String name = KeyLayout.childName(slice, c.key());
            if (name == null) {
                continue;
            }
            boolean news;
            if (c.kind() == SliceWatch.Kind.PUT) {
                Entry<T> before = desired.put(name, c.entry());
                long rev = c.entry().modRevision();
                news = before == null || before.modRevision() != rev;
                seen.compute(name, (k, old) -> old != null && old[0] == rev ? old : new long[] {rev, now});
            } else {
                news = desired.remove(name) != null;
                seen.remove(name);
            }
            if (first) {
                firstPass.add(name);
            }
            if (news) {
                queue.add(name);
            } else {
                // a relist repeating what was known: no reason to cut a backoff short
                queue.resync(name);
            }
        }
        firstPassListed = true;
        synced = true;
    }

    /** Relists the slice and queues every desired and actual name: the level-triggered safety net. */
    public void resync() {
        SliceWatch<T> w = watch;
        if (w != null) {
            w.resync();
        }
        Set<String> names = new HashSet<>(desired.keySet());
        try {
            names.addAll(reconciler.actualNames());
        } catch (Exception e) {
            log.warn("{}: listing actual state failed: {}", reconciler.agent(), Failures.describe(e));
        }
        names.addAll(written.keySet());
        // a name waiting out its backoff (or a requeue) is left to its timer: it will be reconciled anyway
        names.forEach(queue::resync);
    }

    /** Queues one name now (e.g. after a local event the watch cannot see). */
    public void enqueue(String name) {
        Map<String, Long> due = onceDue;
        if (due != null) {
            due.computeIfPresent(name, (k, v) -> System.nanoTime());
            return;
        }
        queue.add(name);
    }

    /**
     * How one name ended in a one-shot run ({@link #runOnce}).
     *
     * @param converged READY (or removed, or an ignored invalid name): nothing left to do for this agent
     * @param phase     the last phase reported, null when nothing was reconciled (removed, ignored, never reached)
     */
    public record Outcome(String agent, String name, Phase phase, String message, boolean converged) {
        /** One line for the run's summary. */
        public String line() {
            return agent + " " + name + ": " + (phase == null ? "-" : phase) + (message == null ? "" : " (" + message
                    + ")");
        }
    }

    /**
     * The one-shot mode ({@code --once}): reads the slice once (no watch, no resync, no workers) and reconciles
     * every desired, actual and already-reported name until each is READY or removed, or has failed
     * {@code giveUpAfter} times in a row, or {@code deadline} (System.nanoTime) passes. Statuses are written as a
     * running agent writes them. Returns how each name ended, sorted by name; throws when etcd cannot be read.
     */
    public List<Outcome> runOnce(long deadline, int giveUpAfter) throws InterruptedException {
        synchronized (lifecycle) {
            if (closed || !running.compareAndSet(false, true)) {
                throw new IllegalStateException(reconciler.agent() + ": converger already started or closed");
            }
            onceDue = new ConcurrentHashMap<>();
        }
        loadWrittenStatuses();
        for (Entry<T> e : store.list(slice, type).entries()) {
            String name = KeyLayout.childName(slice, e.key());
            if (name != null) {
                desired.put(name, e);
            }
        }
        synced = true;
        lastStoreContact = clock.instant();
        Set<String> names = new java.util.TreeSet<>(desired.keySet());
        try {
            names.addAll(reconciler.actualNames());
        } catch (Exception e) {
            log.warn("{}: listing actual state failed: {}", reconciler.agent(), Failures.describe(e));
        }
        names.addAll(written.keySet());
        Map<String, Long> due = onceDue;
        long start = System.nanoTime();
        names.forEach(n -> due.put(n, start));
        Map<String, Outcome> outcomes = new java.util.TreeMap<>();
        Map<String, Integer> failuresInRow = new java.util.HashMap<>();
        while (!due.isEmpty() && running.get() && System.nanoTime() < deadline) {
            var next = due.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow();
            long wait = next.getValue() - System.nanoTime();
            if (next.getValue() >= deadline) {
                break;
            }
            if (wait > 0) {
                // a local event (a download done) moves a name's time forward: look again within 50 ms
                Thread.sleep(Math.min(50, Math.max(1, wait / 1_000_000)));
                continue;
            }
            String name = next.getKey();
            Step step = runOne(name);
            Result r = step.result();
            if (r == null && step.next() == null || r != null && (r.removal() || r.phase() == Phase.READY)) {
                due.remove(name);
                outcomes.put(name, new Outcome(agent(), name, r == null ? null : r.phase(),
                        r == null ? "ignored: not a valid name" : r.removal() ? "removed" : r.message(), true));
                continue;
            }
            Outcome last = outcomes.get(name);
            if (r != null && (r.phase() == Phase.FAILED || last == null || last.phase() != Phase.FAILED)) {
                // a retry under way after a failure (PROGRESSING) does not hide the failure from the summary
                outcomes.put(name, new Outcome(agent(), name, r.phase(), r.message(), false));
            }
            // counted until the name converges: a retry in progress between two failures does not reset it
            if (r != null && r.phase() == Phase.FAILED && failuresInRow.merge(name, 1, Integer::sum) >= giveUpAfter) {
                due.remove(name);
                continue;
            }
            // no resync will come: a waiting name is looked at again within half a second, whatever it asked for
            Duration again = step.next() == null ? Duration.ofMillis(500) : step.next();
            long cap = r != null && r.phase() == Phase.FAILED ? again.toNanos() : Math.min(again.toNanos(), 500_000_000L);
            due.put(name, System.nanoTime() + cap);
        }
        for (String name : due.keySet()) {
            Outcome o = outcomes.get(name);
            outcomes.put(name, new Outcome(agent(), name, o == null ? null : o.phase(),
                    (o == null || o.message() == null ? "not reconciled" : o.message())
                            + "; not converged within the deadline", false));
        }
        running.set(false);
        return List.copyOf(outcomes.values());
    }

    private void work() {
        while (running.get()) {
            String name;
            try {
                name = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (name == null) {
                return;
            }
            try {
                Step step = runOne(name);
                if (step.next() != null && retryAt.containsKey(name)) {
                    // a failure: its backoff is not cut short by a resync (a change still cuts it)
                    queue.backOff(name, step.next());
                } else if (step.next() != null) {
                    queue.addAfter(name, step.next());
                }
            } finally {
                if (synced) {
                    firstPass.remove(name);
                }
                queue.done(name);
            }
        }
    }

    /** What one reconcile of a name came to: the result (null when none ran) and when to look again (or null). */
    private record Step(Result result, Duration next) {
    }

    private Step runOne(String name) {
        if (!Names.valid(name)) {
            log.warn("{}: ignoring key with invalid name '{}'", reconciler.agent(), name);
            return new Step(null, null);
        }
        Entry<T> want = desired.get(name);
        if (want == null && !synced) {
            // etcd has not been read yet (unreachable at start): absent is not removed. Never tear down on that.
            return new Step(null, settings.waitingRetry());
        }
        if (want != null && !want.valid()) {
            Result invalid = new Result(Phase.FAILED, null, want.modRevision(), "invalid value at " + want.key()
                    + ": " + want.error(), Map.of(), null, false);
            return new Step(invalid, report(name, want.modRevision(), invalid, 0, null) ? null
                    : settings.waitingRetry());
        }
        Timer.Sample sample = Timer.start();
        Result result;
        try {
            result = reconciler.reconcile(name, want);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Step(null, null);
        } catch (Exception | LinkageError e) {
            log.warn("{}: reconcile of {} failed: {}", reconciler.agent(), name, Failures.describe(e),
                    log.isDebugEnabled() ? e : null);
            result = Result.failed(null, want == null ? 0 : want.modRevision(), Failures.describe(e));
        } finally {
            sample.stop(duration);
            reconciles.incrementAndGet();
        }
        if (result == null) {
            result = Result.failed(null, 0, "reconciler returned no result");
        }
        if (result.removal()) {
            attempts.remove(name);
            retryAt.remove(name);
            okCounter.increment();
            return new Step(result, removeStatus(name) ? null : settings.waitingRetry());
        }
        int failedAttempts = 0;
        Duration next = result.requeueAfter();
        if (result.phase() == Phase.FAILED) {
            failCounter.increment();
            failedAttempts = attempts.merge(name, 1, Integer::sum);
            Duration backoff = settings.backoff().delay(failedAttempts);
            // the retry is due after the backoff even when the reconciler asked to look earlier (for progress)
            retryAt.put(name, System.nanoTime() + backoff.toNanos());
            next = next == null ? backoff : next;
        } else {
            okCounter.increment();
            attempts.remove(name);
            retryAt.remove(name);
            if (result.phase() == Phase.WAITING || result.phase() == Phase.PROGRESSING) {
                next = next == null ? settings.waitingRetry() : next;
            }
        }
        if (!report(name, want == null ? 0 : want.modRevision(), result, failedAttempts, next)) {
            next = next == null ? settings.waitingRetry() : next;
        }
        return new Step(result, next);
    }

    /** Writes the status when it changed; false when etcd did not take it (the caller retries). */
    private boolean report(String name, long desiredRevision, Result r, int failedAttempts, Duration retryIn) {
        Instant now = clock.instant();
        AgentStatus old = written.get(name);
        Instant nextRetry = r.phase() == Phase.FAILED && retryIn != null ? now.plus(retryIn) : null;
        AgentStatus next = new AgentStatus(reconciler.agent(), r.phase(), r.version(), r.observedRevision(),
                r.message(), failedAttempts, now, nextRetry, r.details());
        if (next.sameAs(old)) {
            if (r.phase() == Phase.READY) {
                // READY for this revision before we saw it (a restart): already converged, nothing to time
                seen.computeIfPresent(name, (k, v) -> desiredRevision >= v[0] ? null : v);
            }
            return true;
        }
        if (old != null && old.phase() == next.phase()) {
            next = next.withSince(old.since());
        }
        try {
            store.put(keys.status(host, name, reconciler.agent()), next);
            written.put(name, next);
            statusWrites.increment();
            if (r.phase() == Phase.READY) {
                long[] since = seen.get(name);
                // the desired key's revision this reconcile acted on, not r.observedRevision(): a reconciler
                // reports the intent's (app) revision, older than the key's, and no latency was ever recorded
                if (since != null && desiredRevision >= since[0] && seen.remove(name, since)) {
                    convergeLatency.record(System.nanoTime() - since[1], TimeUnit.NANOSECONDS);
                }
            }
            lastStoreContact = now;
            return true;
        } catch (RuntimeException e) {
            log.warn("{}: status of {} not written ({}); will retry", reconciler.agent(), name,
                    Failures.describe(e));
            return false;
        }
    }

    /** Deletes the name's status; false when etcd did not take it (the caller retries). */
    private boolean removeStatus(String name) {
        if (!written.containsKey(name)) {
            return true;
        }
        try {
            store.delete(keys.status(host, name, reconciler.agent()));
            written.remove(name);
            return true;
        } catch (RuntimeException e) {
            log.warn("{}: status of {} not deleted ({}); will retry", reconciler.agent(), name,
                    Failures.describe(e));
            return false;
        }
    }

    /**
     * True once the slice has been read and every name in that first read has been reconciled once (READY or
     * not): from then on the agent's statuses say what it thinks, so it is ready.
     */
    public boolean firstSyncDone() {
        return firstPassListed && firstPass.isEmpty();
    }

    /** Total reconcile calls so far. */
    public int reconciles() {
        return reconciles.get();
    }

    /** The latest desired entries, by name. */
    public Map<String, Entry<T>> desired() {
        return Map.copyOf(desired);
    }

    /** When the kit last heard from etcd (a watch batch, a status write). */
    public Instant lastStoreContact() {
        return lastStoreContact;
    }

    public boolean isRunning() {
        return running.get();
    }

    public String agent() {
        return reconciler.agent();
    }

    /**
     * Stops watching, lets in-flight reconciles finish (up to the grace period), stops the workers, then closes
     * the reconciler if it is {@link AutoCloseable} (its own background threads). The converger is the one owner
     * of its reconciler: nobody else closes it.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            running.set(false);
        }
        SliceWatch<T> w = watch;
        if (w != null) {
            w.close();
        }
        queue.shutdown();
        long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
        for (Thread t : workers) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                t.interrupt();
            }
        }
        timer.shutdownNow();
        if (reconciler instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("{}: closing the reconciler failed: {}", reconciler.agent(), Failures.describe(e));
            }
        }
    }
}
