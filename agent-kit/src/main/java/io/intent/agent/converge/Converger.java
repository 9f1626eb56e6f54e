package io.intent.agent.converge;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Names;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.Phase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The converge kit: runs one {@link Reconciler} against one host's slice. It owns the slice watch, a
 * de-duplicating work queue keyed by name (one reconcile per name at a time), retries with capped
 * exponential backoff and jitter, a periodic full resync, and status reporting at
 * {@code /intent/status/<host>/<name>/<agent>}, written only when it changed ({@link StatusWriter}). A
 * {@link SliceReconciler} (handed in as {@link SliceReconciler#asReconciler()}) is run in the whole-slice mode:
 * the queue then holds one key for the whole slice, and each call's per-name results are reported name by name.
 *
 * <p>Long because it is the kit's one lifecycle (start, watch, queue, workers, resync, close) and its public face;
 * what one run does ({@link Runner}), the statuses ({@link StatusWriter}) and the one-shot loop ({@link OnceRun})
 * live apart.
 */
public final class Converger<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Converger.class);
    /** The queue's one key in the whole-slice mode: never a valid name. */
    static final String SLICE = "";

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

    /**
     * What one run of a queue key came to: the result of each name it covered (none when nothing ran), when to look
     * again (or null), and whether that look is a failure's backoff (which a resync leaves alone).
     */
    record Step(Map<String, Result> results, Duration next, boolean failed) {
        static Step none(Duration next) {
            return new Step(Map.of(), next, false);
        }
    }

    private final EtcdStore store;
    private final String slice;
    private final Class<T> type;
    private final Reconciler<T> reconciler;
    /** The whole-slice reconciler, or null when names are reconciled one by one. */
    private final SliceReconciler<T> wholeSlice;
    private final String agent;
    private final Settings settings;
    private final ScheduledExecutorService timer;
    private final WorkQueue queue;
    private final StatusWriter statuses;
    private final List<Thread> workers = new ArrayList<>();
    private final Map<String, Entry<T>> desired = new ConcurrentHashMap<>();
    private final Map<String, Entry<T>> desiredView = Collections.unmodifiableMap(desired);
    private final AtomicBoolean running = new AtomicBoolean();
    /** Guards start against close, so a converger closed before or during its start never starts working. */
    private final Object lifecycle = new Object();
    private boolean closed;
    private final Runner<T> runner;
    /** Names of the first snapshot not yet reconciled once: the agent is ready when none is left. */
    private final Set<String> firstPass = ConcurrentHashMap.newKeySet();
    private volatile boolean firstPassListed;
    private volatile SliceWatch<T> watch;
    /** In the one-shot mode, when each key not yet done is due next (System.nanoTime); null in the daemon. */
    private volatile Map<String, Long> onceDue;
    private volatile Instant lastWatchContact = Instant.EPOCH;
    /** True once the slice has been read: before that, a name missing from {@link #desired} means "unknown". */
    private volatile boolean synced;

    public Converger(EtcdStore store, String host, String slice, Class<T> type, Reconciler<T> reconciler,
                     Settings settings, MeterRegistry metrics) {
        this.store = store;
        this.slice = slice;
        this.type = type;
        this.reconciler = reconciler;
        this.wholeSlice = reconciler instanceof SliceReconciler.WholeSlice<T> w ? w.slice() : null;
        this.agent = reconciler.agent();
        this.settings = settings;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, agent + "-timer");
            t.setDaemon(true);
            return t;
        });
        this.queue = new WorkQueue(timer);
        this.statuses = new StatusWriter(store, Names.require("host", host), agent, metrics);
        this.runner = new Runner<>(reconciler, settings, statuses, desired, () -> synced, metrics);
        metrics.gauge("intent_queue_depth", List.of(Tag.of("agent", agent)), queue, WorkQueue::depth);
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
            return runner.backingOff(name);
        }
    }

    /** Loads the statuses already written (so a restart rewrites nothing), then starts watching and working. */
    public Converger<T> start() {
        synchronized (lifecycle) {
            if (closed || !running.compareAndSet(false, true)) {
                return this;
            }
        }
        statuses.load();
        // a close() that came while the statuses were read (SIGTERM during start-up) must see no worker start
        synchronized (lifecycle) {
            if (closed) {
                return this;
            }
            watch = store.watchSlice(slice, type, this::onChanges);
            // one call of the whole slice at a time: a second worker would only wait
            int n = wholeSlice != null ? 1 : reconciler.workers() > 0 ? reconciler.workers() : settings.workers();
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(this::work, agent + "-worker-" + i);
                t.start();
                workers.add(t);
            }
            long period = settings.resync().toMillis();
            timer.scheduleWithFixedDelay(this::resync, period, period, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Waits until the first snapshot of the slice has been seen. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        SliceWatch<T> w = watch;
        return w != null && w.awaitReady(timeout);
    }

    private void onChanges(List<SliceWatch.Change<T>> changes, long revision, boolean relisted) {
        lastWatchContact = Instant.now();
        boolean first = !firstPassListed;
        boolean anyNews = false;
        long now = System.nanoTime();
        for (var c : changes) {
            String name = KeyLayout.childName(slice, c.key());
            if (name == null) {
                continue;
            }
            boolean news;
            if (c.kind() == SliceWatch.Kind.PUT) {
                Entry<T> before = desired.put(name, c.entry());
                news = before == null || before.modRevision() != c.entry().modRevision();
                statuses.seen(name, c.entry().modRevision(), now);
            } else {
                news = desired.remove(name) != null;
                statuses.forget(name);
            }
            if (first) {
                firstPass.add(name);
            }
            anyNews |= news;
            if (wholeSlice == null) {
                // a relist repeating what was known is no reason to cut a backoff short
                if (news) {
                    queue.add(name);
                } else {
                    queue.resync(name);
                }
            }
        }
        firstPassListed = true;
        synced = true;
        if (wholeSlice != null && (anyNews || first)) {
            // the first read makes the artefact even from an empty slice
            queue.addSettled(SLICE, wholeSlice.settle());
        } else if (wholeSlice != null && !changes.isEmpty()) {
            queue.resync(SLICE);
        }
    }

    /** Relists the slice and queues every desired and actual name: the level-triggered safety net. */
    public void resync() {
        SliceWatch<T> w = watch;
        if (w != null) {
            w.resync();
        }
        if (wholeSlice != null) {
            queue.resync(SLICE);
            return;
        }
        // a name waiting out its backoff is left to its timer: it will be reconciled anyway
        allNames().forEach(queue::resync);
    }

    /** Every desired name, every name the host has and every name with a status: what a resync looks at. */
    private Set<String> allNames() {
        Set<String> names = new TreeSet<>(desired.keySet());
        try {
            names.addAll(reconciler.actualNames());
        } catch (Exception e) {
            log.warn("{}: listing actual state failed: {}", agent, Failures.describe(e));
        }
        names.addAll(statuses.names());
        return names;
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
                throw new IllegalStateException(agent + ": converger already started or closed");
            }
            onceDue = new ConcurrentHashMap<>();
        }
        statuses.load();
        for (Entry<T> e : store.list(slice, type).entries()) {
            String name = KeyLayout.childName(slice, e.key());
            if (name != null) {
                desired.put(name, e);
            }
        }
        synced = true;
        lastWatchContact = Instant.now();
        Set<String> names = allNames();
        Map<String, Long> due = onceDue;
        long start = System.nanoTime();
        (wholeSlice != null ? Set.of(SLICE) : names).forEach(n -> due.put(n, start));
        try {
            return new OnceRun(agent, runner::run, unit -> unit.equals(SLICE) ? names : Set.of(unit), due)
                    .run(running::get, deadline, giveUpAfter);
        } finally {
            running.set(false);
        }
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
                Step step = runner.run(name);
                if (step.next() != null && step.failed()) {
                    // a failure: its backoff is not cut short by a resync (a change still cuts it)
                    queue.backOff(name, step.next());
                } else if (step.next() != null) {
                    queue.addAfter(name, step.next());
                }
            } finally {
                if (synced && name.equals(SLICE)) {
                    firstPass.clear();
                } else if (synced) {
                    firstPass.remove(name);
                }
                queue.done(name);
            }
        }
    }

    /**
     * True once the slice has been read and every name in that first read has been reconciled once (READY or
     * not): from then on the agent's statuses say what it thinks, so it is ready.
     */
    public boolean firstSyncDone() {
        return firstPassListed && firstPass.isEmpty();
    }

    /** Total reconcile calls so far (in the whole-slice mode, calls of the whole slice). */
    public int reconciles() {
        return runner.reconciles();
    }

    /** The latest desired entries, by name. */
    public Map<String, Entry<T>> desired() {
        return Map.copyOf(desired);
    }

    /** When the kit last heard from etcd (a watch batch, a status write). */
    public Instant lastStoreContact() {
        Instant written = statuses.lastWrite();
        Instant watched = lastWatchContact;
        return written.isAfter(watched) ? written : watched;
    }

    public boolean isRunning() {
        return running.get();
    }

    public String agent() {
        return agent;
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
                log.warn("{}: closing the reconciler failed: {}", agent, Failures.describe(e));
            }
        }
    }
}
