package io.intent.setlive;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.intent.store.etcd.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What setlive remembers of an app's restarts and failures on this host, kept on disk ({@link RestartBook}) so
 * that backoff and sickness survive an agent restart. Every method is pure: it returns the next record.
 *
 * @param livenessRestarts  restarts setlive made because the health check kept failing, since the spec started
 * @param restartAttempts   liveness restarts in a row without a long healthy spell (drives the backoff)
 * @param lastRestartAt     when setlive last restarted the instance for failing its health check
 * @param notBefore         no liveness restart before this (exponential backoff across restarts)
 * @param failures          recent failures on this host: unasked-for exits, liveness restarts, failed switches
 * @param seenRestarts      the runtime's restart count when last looked at, to turn its growth into failures
 * @param failedFingerprint the spec whose switch last failed its health check, or null
 * @param failedAttempts    how many times in a row that switch failed
 * @param failedNotBefore   that switch is not retried before this (crash-loop backoff)
 * @param failedMessage     what the failure was, for the status while backing off
 */
record RestartRecord(int livenessRestarts, int restartAttempts, Instant lastRestartAt, Instant notBefore,
                     List<Instant> failures, int seenRestarts, String failedFingerprint, int failedAttempts,
                     Instant failedNotBefore, String failedMessage) {
    static final RestartRecord EMPTY = new RestartRecord(0, 0, null, null, List.of(), 0, null, 0, null, null);
    /** Crash-loop backoff of liveness restarts and failed switches: 10 s after the first, doubling, to 5 min. */
    static final Backoff CRASH_LOOP = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(5));
    /** Healthy this long after the last liveness restart, the backoff starts over. */
    static final Duration BACKOFF_RESET = Duration.ofMinutes(10);
    /** Failures older than this are forgotten (longer than any reschedule window). */
    static final Duration KEEP = Duration.ofDays(1);
    private static final int MAX_FAILURES = 200;

    RestartRecord {
        failures = failures == null ? List.of() : List.copyOf(failures);
    }

    /** Whether a liveness restart is allowed at {@code now}. */
    boolean mayRestart(Instant now) {
        return notBefore == null || !now.isBefore(notBefore);
    }

    /**
     * After a liveness restart at {@code now}: counts it, and backs the next one off. It is a failure of its own
     * unless the runtime counts it as a restart ({@code countedByRuntime}), which {@link #observed} then sees.
     */
    RestartRecord restarted(Instant now, boolean countedByRuntime) {
        int attempts = restartAttempts + 1;
        List<Instant> f = countedByRuntime ? failures : with(failures, now, 1);
        return new RestartRecord(livenessRestarts + 1, attempts, now, now.plus(CRASH_LOOP.delay(attempts)), f,
                seenRestarts, failedFingerprint, failedAttempts, failedNotBefore, failedMessage);
    }

    /** A passing health check at {@code now}: after a long healthy spell the backoff starts over. */
    RestartRecord healthy(Instant now) {
        if (restartAttempts == 0 || lastRestartAt == null
                || Duration.between(lastRestartAt, now).compareTo(BACKOFF_RESET) < 0) {
            return this;
        }
        return new RestartRecord(livenessRestarts, 0, lastRestartAt, null, failures, seenRestarts,
                failedFingerprint, failedAttempts, failedNotBefore, failedMessage);
    }

    /** The runtime now counts {@code runtimeRestarts}: its growth since the last look are failures at {@code now}. */
    RestartRecord observed(int runtimeRestarts, Instant now) {
        if (runtimeRestarts == seenRestarts) {
            return this;
        }
        List<Instant> f = runtimeRestarts > seenRestarts
                ? with(failures, now, Math.min(runtimeRestarts - seenRestarts, MAX_FAILURES)) : failures;
        return new RestartRecord(livenessRestarts, restartAttempts, lastRestartAt, notBefore, f, runtimeRestarts,
                failedFingerprint, failedAttempts, failedNotBefore, failedMessage);
    }

    /** A switch to {@code fingerprint} failed at {@code now}: the attempt count grows while it is the same spec. */
    RestartRecord switchFailed(String fingerprint, Instant now, Duration wait, String message) {
        int attempts = fingerprint.equals(failedFingerprint) ? failedAttempts + 1 : 1;
        return new RestartRecord(livenessRestarts, restartAttempts, lastRestartAt, notBefore,
                with(failures, now, 1), seenRestarts, fingerprint, attempts, now.plus(wait), message);
    }

    /** How many times in a row the switch to {@code fingerprint} failed (0 when it is not the one that failed). */
    int failedAttemptsOf(String fingerprint) {
        return fingerprint.equals(failedFingerprint) ? failedAttempts : 0;
    }

    /**
     * A new spec is live and healthy: liveness restarts and the switch backoff start over; failures stay, since
     * a host where switch after switch fails is just as sick.
     */
    RestartRecord switched() {
        return new RestartRecord(0, 0, null, null, failures, 0, null, 0, null, null);
    }

    /** Failures within {@code window} before {@code now}. */
    int failuresWithin(Duration window, Instant now) {
        Instant from = now.minus(window);
        return (int) failures.stream().filter(t -> t.isAfter(from)).count();
    }

    @JsonIgnore
    boolean backingOffSwitch(Instant now) {
        return failedNotBefore != null && now.isBefore(failedNotBefore);
    }

    private static List<Instant> with(List<Instant> failures, Instant now, int n) {
        List<Instant> out = new ArrayList<>();
        Instant oldest = now.minus(KEEP);
        for (Instant t : failures) {
            if (t.isAfter(oldest)) {
                out.add(t);
            }
        }
        for (int i = 0; i < n; i++) {
            out.add(now);
        }
        return out.size() > MAX_FAILURES ? out.subList(out.size() - MAX_FAILURES, out.size()) : out;
    }
}
