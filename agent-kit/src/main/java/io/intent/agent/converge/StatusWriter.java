package io.intent.agent.converge;

import io.intent.daemon.ProcessMetrics;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's statuses at {@code /intent/status/<host>/<name>/<agent>}: written only when they changed (also across
 * restarts: it reads what it wrote before), and the converge latency from a revision seen to READY for it.
 */
final class StatusWriter {
    private static final Logger log = LoggerFactory.getLogger(StatusWriter.class);

    private final EtcdStore store;
    private final KeyLayout keys;
    private final String host;
    private final String agent;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, AgentStatus> written = new ConcurrentHashMap<>();
    /** Per name, the mod revision last seen and when (System.nanoTime): the start of its converge latency. */
    private final Map<String, long[]> seen = new ConcurrentHashMap<>();
    private final Counter statusWrites;
    private final Timer convergeLatency;
    private volatile Instant lastWrite = Instant.EPOCH;

    StatusWriter(EtcdStore store, String host, String agent, MeterRegistry metrics) {
        this.store = store;
        this.keys = store.keys();
        this.host = host;
        this.agent = agent;
        this.statusWrites = Counter.builder("intent_status_writes_total").tag("agent", agent).register(metrics);
        this.convergeLatency = Timer.builder("intent_converge_seconds").tag("agent", agent)
                .description("from an intent revision seen in the watch to this agent's status READY for it")
                .serviceLevelObjectives(ProcessMetrics.CONVERGE_BUCKETS).register(metrics);
        Gauge.builder("intent_unconverged_oldest_seconds", seen,
                        m -> m.values().stream().mapToLong(v -> System.nanoTime() - v[1]).max().orElse(0) / 1e9)
                .tag("agent", agent)
                .description("age of the oldest intent revision this agent has seen but not yet reported READY for")
                .register(metrics);
    }

    /** Reads the statuses this agent wrote before, so a restart rewrites none that still holds. */
    void load() {
        try {
            var snap = store.list(keys.statusSlice(host), AgentStatus.class);
            for (var e : snap.entries()) {
                if (e.valid() && agent.equals(e.value().agent())) {
                    String rest = e.key().substring(keys.statusSlice(host).length());
                    int slash = rest.indexOf('/');
                    if (slash > 0) {
                        written.put(rest.substring(0, slash), e.value());
                    }
                }
            }
            lastWrite = clock.instant();
        } catch (RuntimeException e) {
            log.warn("could not read earlier statuses ({}); they will be rewritten", Failures.describe(e));
        }
    }

    /** The names this agent has a status for. */
    Set<String> names() {
        return written.keySet();
    }

    /** Notes the revision of {@code name} the watch delivered at {@code nanos}: its converge latency starts. */
    void seen(String name, long revision, long nanos) {
        seen.compute(name, (k, old) -> old != null && old[0] == revision ? old : new long[] {revision, nanos});
    }

    /** The name left the slice: no latency to record for it. */
    void forget(String name) {
        seen.remove(name);
    }

    /** When a status was last written or the statuses read. */
    Instant lastWrite() {
        return lastWrite;
    }

    /**
     * Writes the status when it changed; false when etcd did not take it (the caller retries). {@code
     * desiredRevision} is the desired key's revision the reconcile acted on, which times convergence.
     */
    boolean report(String name, long desiredRevision, Result r, int failedAttempts, Duration retryIn) {
        Instant now = clock.instant();
        AgentStatus old = written.get(name);
        Instant nextRetry = r.phase() == Phase.FAILED && retryIn != null ? now.plus(retryIn) : null;
        AgentStatus next = new AgentStatus(agent, r.phase(), r.version(), r.observedRevision(), r.message(),
                failedAttempts, now, nextRetry, r.details());
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
            store.put(keys.status(host, name, agent), next);
            written.put(name, next);
            statusWrites.increment();
            if (r.phase() == Phase.READY) {
                long[] since = seen.get(name);
                // the desired key's revision, not r.observedRevision(): a reconciler reports the intent's (app)
                // revision, older than the key's, and no latency was ever recorded
                if (since != null && desiredRevision >= since[0] && seen.remove(name, since)) {
                    convergeLatency.record(System.nanoTime() - since[1], TimeUnit.NANOSECONDS);
                }
            }
            lastWrite = now;
            return true;
        } catch (RuntimeException e) {
            log.warn("{}: status of {} not written ({}); will retry", agent, name, Failures.describe(e));
            return false;
        }
    }

    /** Deletes the name's status; false when etcd did not take it (the caller retries). */
    boolean remove(String name) {
        if (!written.containsKey(name)) {
            return true;
        }
        try {
            store.delete(keys.status(host, name, agent));
            written.remove(name);
            return true;
        } catch (RuntimeException e) {
            log.warn("{}: status of {} not deleted ({}); will retry", agent, name, Failures.describe(e));
            return false;
        }
    }
}
