package io.intent.setlive;

import java.time.Duration;
import java.time.Instant;

/**
 * A switch that has started its new spec (or, after a failure, the previous one again) and waits for its health
 * check between reconciles, so no converge worker waits. It is kept on disk ({@link PendingSwitches}) so an agent
 * restarted mid-wait still knows what to roll back to, whether it holds a rollout slot, and since when it waits.
 *
 * @param fingerprint       the runtime's fingerprint of {@code started}
 * @param started           the spec started: the new version, or during a rollback the last healthy one
 * @param previous          the last spec known healthy, to roll back to; null on a first start and during a rollback
 * @param requestedAt       when the switch began (before the stop): the switch time counts from here
 * @param startedAt         when {@code started} was started: the health timeout counts from here; null until then
 * @param slot              whether the switch holds a rollout slot of the app
 * @param failure           null while the new version is tried; during a rollback, why it failed
 * @param failedFingerprint during a rollback, the fingerprint of the spec that failed
 * @param attempts          how many times in a row the wanted spec failed (for the backoff): during a rollback
 *                          including this time, before it the earlier failures
 */
record PendingSwitch(String fingerprint, LaunchSpec started, LaunchSpec previous, Instant requestedAt,
                     Instant startedAt, boolean slot, String failure, String failedFingerprint, int attempts) {

    /** What one health check means for a pending switch. */
    enum Verdict { HEALTHY, WAIT, TIMED_OUT }

    /** A switch of a new spec that is about to stop what runs; not started yet. */
    static PendingSwitch begin(String fingerprint, LaunchSpec spec, LaunchSpec previous, boolean slot, Instant now) {
        return new PendingSwitch(fingerprint, spec, previous, now, null, slot, null, null, 0);
    }

    /** This switch with {@code n} earlier failures of the same spec (so the backoff grows across node restarts). */
    PendingSwitch priorFailures(int n) {
        return new PendingSwitch(fingerprint, started, previous, requestedAt, startedAt, slot, failure, failedFingerprint,
                n);
    }

    PendingSwitch startedAt(Instant at) {
        return new PendingSwitch(fingerprint, started, previous, requestedAt, at, slot, failure, failedFingerprint,
                attempts);
    }

    /** The rollback after this switch failed: {@code back} (this switch's previous) started again at {@code at}. */
    PendingSwitch rollback(String backFingerprint, String why, int failedAttempts, Instant at) {
        return new PendingSwitch(backFingerprint, previous, null, requestedAt, at, slot, why, fingerprint,
                failedAttempts);
    }

    boolean rollingBack() {
        return failure != null;
    }

    /** The spec a later switch should go back to if it fails: the last one known healthy. */
    LaunchSpec lastHealthy() {
        return rollingBack() ? started : previous;
    }

    /** The spec the operator asked for: the new one, or during a rollback the one that failed. */
    String wantedFingerprint() {
        return rollingBack() ? failedFingerprint : fingerprint;
    }

    /**
     * Pure: a healthy check ends the wait; an unhealthy one waits until {@code timeout} after the start (the start
     * time, not the agent's, so a restarted agent does not wait the whole timeout again).
     */
    Verdict judge(boolean healthy, Instant now, Duration timeout) {
        if (healthy) {
            return Verdict.HEALTHY;
        }
        Instant since = startedAt != null ? startedAt : requestedAt;
        return Duration.between(since, now).compareTo(timeout) < 0 ? Verdict.WAIT : Verdict.TIMED_OUT;
    }

    /**
     * Pure: when to check again: soon after the start (most apps answer within tens of milliseconds), then at most
     * every 250 ms, so a slow app costs a few cheap reconciles a second and no waiting worker.
     */
    Duration recheckAfter(Instant now) {
        Instant since = startedAt != null ? startedAt : requestedAt;
        long half = Math.max(0, Duration.between(since, now).toMillis() / 2);
        return Duration.ofMillis(Math.min(250, Math.max(10, half)));
    }
}
