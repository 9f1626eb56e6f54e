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
            if (c.kind() == SliceWatch.Kind.PUT) {
                desired.put(name, c.entry());
                long rev = c.entry().modRevision();
                seen.compute(name, (k, old) -> old != null && old[0] == rev ? old : new long[] {rev, now});
            } else {
                desired.remove(name);
                seen.remove(name);
            }
            if (first) {
                firstPass.add(name);
            }
            queue.add(name);
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
        names.forEach(queue::add);
    }

    /** Queues one name now (e.g. after a local event the watch cannot see). */
    public void enqueue(String name) {
        queue.add(name);
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
                runOne(name);
            } finally {
                if (synced) {
                    firstPass.remove(name);
                }
                queue.done(name);
            }
        }
    }

    private void runOne(String name) {
        if (!Names.valid(name)) {
            log.warn("{}: ignoring key with invalid name '{}'", reconciler.agent(), name);
            return;
        }
        Entry<T> want = desired.get(name);
        if (want == null && !synced) {
            // etcd has not been read yet (unreachable at start): absent is not removed. Never tear down on that.
            queue.addAfter(name, settings.waitingRetry());
            return;
        }
        if (want != null && !want.valid()) {
            report(name, new Result(Phase.FAILED, null, want.modRevision(), "invalid value at " + want.key() + ": "
                    + want.error(), Map.of(), null, false), 0);
            return;
        }
        Timer.Sample sample = Timer.start();
        Result result;
        try {
            result = reconciler.reconcile(name, want);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
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
            okCounter.increment();
            removeStatus(name);
            return;
        }
        int failedAttempts = 0;
        Duration next = result.requeueAfter();
        if (result.phase() == Phase.FAILED) {
            failCounter.increment();
            failedAttempts = attempts.merge(name, 1, Integer::sum);
            Duration backoff = settings.backoff().delay(failedAttempts);
            next = next == null ? backoff : next;
        } else {
            okCounter.increment();
            attempts.remove(name);
            if (result.phase() == Phase.WAITING || result.phase() == Phase.PROGRESSING) {
                next = next == null ? settings.waitingRetry() : next;
            }
        }
        report(name, result, failedAttempts, next);
        if (next != null) {
            queue.addAfter(name, next);
        }
    }

    private void report(String name, Result r, int failedAttempts) {
        report(name, r, failedAttempts, null);
    }

    private void report(String name, Result r, int failedAttempts, Duration retryIn) {
        Instant now = clock.instant();
        AgentStatus old = written.get(name);
        Instant nextRetry = r.phase() == Phase.FAILED && retryIn != null ? now.plus(retryIn) : null;
        AgentStatus next = new AgentStatus(reconciler.agent(), r.phase(), r.version(), r.observedRevision(),
                r.message(), failedAttempts, now, nextRetry, r.details());
        if (next.sameAs(old)) {
            if (r.phase() == Phase.READY) {
                // READY for this revision before we saw it (a restart): already converged, nothing to time
                seen.computeIfPresent(name, (k, v) -> r.observedRevision() >= v[0] ? null : v);
            }
            return;
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
                if (since != null && r.observedRevision() >= since[0] && seen.remove(name, since)) {
                    convergeLatency.record(System.nanoTime() - since[1], TimeUnit.NANOSECONDS);
                }
            }
            lastStoreContact = now;
        } catch (RuntimeException e) {
            log.warn("{}: status of {} not written ({}); will retry", reconciler.agent(), name,
                    Failures.describe(e));
            queue.addAfter(name, settings.waitingRetry());
        }
    }

    private void removeStatus(String name) {
        if (!written.containsKey(name)) {
            return;
        }
        try {
            store.delete(keys.status(host, name, reconciler.agent()));
            written.remove(name);
        } catch (RuntimeException e) {
            log.warn("{}: status of {} not deleted ({}); will retry", reconciler.agent(), name,
                    Failures.describe(e));
            queue.addAfter(name, settings.waitingRetry());
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
     * the reconciler if it is {@link AutoCloseable} (its own background threads).
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
