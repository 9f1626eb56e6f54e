package io.intent.agent.converge;

import io.intent.daemon.ProcessMetrics;
import io.intent.store.codec.Names;
import io.intent.agent.converge.Converger.Settings;
import io.intent.agent.converge.Converger.Step;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.Failures;
import io.intent.store.model.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a queue key, for the {@link Converger}, which decides when runs happen: a name through the
 * {@link Reconciler}, or the whole slice through the {@link SliceReconciler}; the results counted (consecutive
 * failures, backoff) and reported through the {@link StatusWriter}.
 */
final class Runner<T> {
    private static final Logger log = LoggerFactory.getLogger(Runner.class);

    private final Reconciler<T> reconciler;
    /** The whole-slice reconciler, or null when names are reconciled one by one. */
    private final SliceReconciler<T> wholeSlice;
    private final String agent;
    private final Settings settings;
    private final StatusWriter statuses;
    /** The kit's desired slice, by name, kept by the watch. */
    private final Map<String, Entry<T>> desired;
    /** Whether the slice has been read: before that, a name missing from {@link #desired} means "unknown". */
    private final BooleanSupplier synced;
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
    /** Per failing name, when its backoff runs out (System.nanoTime): {@link ReconcileContext#backingOff}. */
    private final Map<String, Long> retryAt = new ConcurrentHashMap<>();
    /** Consecutive failed calls of the whole-slice reconciler: its backoff. */
    private final AtomicInteger sliceFailures = new AtomicInteger();
    private final AtomicInteger reconciles = new AtomicInteger();
    private final Counter okCounter;
    private final Counter failCounter;
    private final Timer duration;

    Runner(Reconciler<T> reconciler, Settings settings, StatusWriter statuses, Map<String, Entry<T>> desired,
           BooleanSupplier synced, MeterRegistry metrics) {
        this.reconciler = reconciler;
        this.wholeSlice = reconciler instanceof SliceReconciler.WholeSlice<T> w ? w.slice() : null;
        this.agent = reconciler.agent();
        this.settings = settings;
        this.statuses = statuses;
        this.desired = desired;
        this.synced = synced;
        this.okCounter = Counter.builder("intent_reconcile_total").tag("agent", agent).tag("result", "ok")
                .register(metrics);
        this.failCounter = Counter.builder("intent_reconcile_total").tag("agent", agent).tag("result", "error")
                .register(metrics);
        this.duration = Timer.builder("intent_reconcile_seconds").tag("agent", agent)
                .description("time of one reconcile call")
                .serviceLevelObjectives(ProcessMetrics.RECONCILE_BUCKETS).register(metrics);
        Gauge.builder("intent_failing_instances", attempts, m -> m.values().stream().filter(n -> n >= 3).count())
                .tag("agent", agent)
                .description("instances whose last three or more reconciles failed in a row (crash loops included)")
                .register(metrics);
    }

    /** Runs one queue key: {@link Converger#SLICE} in the whole-slice mode, else a name. */
    Step run(String key) {
        return wholeSlice != null ? runSlice() : runOne(key);
    }

    /** True while {@code name} waits out the backoff of its last failure. */
    boolean backingOff(String name) {
        Long until = retryAt.get(name);
        return until != null && System.nanoTime() - until < 0;
    }

    /** Total reconcile calls so far. */
    int reconciles() {
        return reconciles.get();
    }

    /** One reconcile of one name, reported. */
    Step runOne(String name) {
        if (!Names.valid(name)) {
            log.warn("{}: ignoring key with invalid name '{}'", agent, name);
            return Step.none(null);
        }
        Entry<T> want = desired.get(name);
        if (want == null && !synced.getAsBoolean()) {
            // etcd has not been read yet (unreachable at start): absent is not removed. Never tear down on that.
            return Step.none(settings.waitingRetry());
        }
        if (want != null && !want.valid()) {
            Result invalid = invalid(want);
            return new Step(Map.of(name, invalid), statuses.report(name, want.modRevision(), invalid, 0, null) ? null
                    : settings.waitingRetry(), false);
        }
        Timer.Sample sample = Timer.start();
        Result result;
        try {
            result = reconciler.reconcile(name, want);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Step.none(null);
        } catch (Exception | LinkageError e) {
            log.warn("{}: reconcile of {} failed: {}", agent, name, Failures.describe(e),
                    log.isDebugEnabled() ? e : null);
            result = Result.failed(null, want == null ? 0 : want.modRevision(), Failures.describe(e));
        } finally {
            sample.stop(duration);
            reconciles.incrementAndGet();
        }
        if (result == null) {
            result = Result.failed(null, 0, "reconciler returned no result");
        }
        (result.phase() == Phase.FAILED ? failCounter : okCounter).increment();
        Duration next = settle(name, revisionOf(want), result, n -> settings.backoff().delay(n));
        return new Step(Map.of(name, result), next, result.phase() == Phase.FAILED);
    }

    /**
     * One call of the whole-slice reconciler on a snapshot of the slice, each name's result reported. Kept in one
     * piece: the snapshot, the call and the reading of its results are one decision.
     */
    Step runSlice() {
        if (!synced.getAsBoolean()) {
            return Step.none(settings.waitingRetry());
        }
        Map<String, Entry<T>> snapshot = Map.copyOf(desired);
        Timer.Sample sample = Timer.start();
        Map<String, Result> returned;
        String error = null;
        try {
            returned = wholeSlice.reconcile(snapshot);
            returned = returned == null ? Map.of() : returned;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Step.none(null);
        } catch (Exception | LinkageError e) {
            error = Failures.describe(e);
            log.warn("{}: converging the slice failed: {}", agent, error, log.isDebugEnabled() ? e : null);
            returned = Map.of();
        } finally {
            sample.stop(duration);
            reconciles.incrementAndGet();
        }
        (error != null ? failCounter : okCounter).increment();
        Duration backoff = error == null ? null : settings.backoff().delay(sliceFailures.incrementAndGet());
        if (error == null) {
            sliceFailures.set(0);
        }
        Set<String> names = new TreeSet<>(snapshot.keySet());
        names.addAll(statuses.names());
        names.addAll(returned.keySet());
        Map<String, Result> results = new TreeMap<>();
        Duration next = backoff;
        for (String name : names) {
            Entry<T> want = snapshot.get(name);
            Result r = sliceResult(want, returned.get(name), error);
            results.put(name, r);
            // a name failed on its own is retried by the next change or resync: retrying its value cannot help
            Duration again = want != null && !want.valid() ? (statuses.report(name, want.modRevision(), r, 0, null)
                    ? null : settings.waitingRetry()) : settle(name, revisionOf(want), r, n -> backoff);
            if (error == null && again != null && (next == null || again.compareTo(next) < 0)) {
                next = again;
            }
        }
        return new Step(results, next, error != null);
    }

    /** What the kit reports for one name of a slice call: its own verdict on invalid values and failed calls. */
    private Result sliceResult(Entry<T> want, Result returned, String error) {
        if (want != null && !want.valid()) {
            return invalid(want);
        }
        long revision = want == null ? 0 : want.modRevision();
        if (error != null) {
            return Result.failed(null, revision, error);
        }
        if (returned != null) {
            return returned;
        }
        return want == null ? Result.removed() : Result.failed(null, revision, "reconciler returned no result");
    }

    /** The revision of the desired key a reconcile acted on (0: the name is gone). */
    private static long revisionOf(Entry<?> want) {
        return want == null ? 0 : want.modRevision();
    }

    private static Result invalid(Entry<?> want) {
        return Result.failed(null, want.modRevision(), "invalid value at " + want.key() + ": " + want.error());
    }

    /**
     * Counts a name's result (consecutive failures, and the backoff {@code backoffAfter} gives for their number, or
     * null for none) and reports it; returns when to look at the name again, or null.
     */
    private Duration settle(String name, long desiredRevision, Result result, IntFunction<Duration> backoffAfter) {
        if (result.removal()) {
            attempts.remove(name);
            retryAt.remove(name);
            return statuses.remove(name) ? null : settings.waitingRetry();
        }
        int failedAttempts = 0;
        Duration next = result.requeueAfter();
        if (result.phase() == Phase.FAILED) {
            failedAttempts = attempts.merge(name, 1, Integer::sum);
            Duration backoff = backoffAfter.apply(failedAttempts);
            if (backoff != null) {
                // the retry is due after the backoff even when the reconciler asked to look earlier (for progress)
                retryAt.put(name, System.nanoTime() + backoff.toNanos());
                next = next == null ? backoff : next;
            }
        } else {
            attempts.remove(name);
            retryAt.remove(name);
            if (result.phase() == Phase.WAITING || result.phase() == Phase.PROGRESSING) {
                next = next == null ? settings.waitingRetry() : next;
            }
        }
        if (!statuses.report(name, desiredRevision, result, failedAttempts, next)) {
            next = next == null ? settings.waitingRetry() : next;
        }
        return next;
    }
}
