package io.intent.agent.converge;

import io.intent.store.model.Phase;
import java.time.Duration;
import java.util.Map;

/**
 * What one reconcile achieved: the status to report for the name ({@code null}: the name is gone, delete its
 * status) and, optionally, when to look again.
 *
 * @param status       what to report, or null for a removal ({@link #removed()})
 * @param requeueAfter when to reconcile the name again at the latest, or null for the kit's default
 */
public record Result(Status status, Duration requeueAfter) {

    /**
     * The status of one name as a reconciler sees it; the kit adds the agent, attempt count and times.
     *
     * @param observedRevision the revision of the desired value this status is about
     * @param details          agent-specific facts for operators (counts, ports, pids)
     */
    public record Status(Phase phase, String version, long observedRevision, String message,
                         Map<String, Object> details) {
        public Status {
            if (phase == null) {
                throw new IllegalArgumentException("a status needs a phase (a removal is Result.removed())");
            }
            details = details == null ? Map.of() : Map.copyOf(details);
        }
    }

    public static Result ready(String version, long revision, String message, Map<String, Object> details) {
        return new Result(new Status(Phase.READY, version, revision, message, details), null);
    }

    public static Result waiting(String version, long revision, String message) {
        return new Result(new Status(Phase.WAITING, version, revision, message, Map.of()), null);
    }

    public static Result progressing(String version, long revision, String message, Map<String, Object> details) {
        return new Result(new Status(Phase.PROGRESSING, version, revision, message, details), null);
    }

    public static Result failed(String version, long revision, String message) {
        return new Result(new Status(Phase.FAILED, version, revision, message, Map.of()), null);
    }

    public static Result removed() {
        return new Result(null, null);
    }

    /** The same status, looked at again after {@code d}. */
    public Result requeueAfter(Duration d) {
        return new Result(status, d);
    }

    /** The same result with other details (a removal stays one). */
    public Result withDetails(Map<String, Object> newDetails) {
        return status == null ? this : new Result(new Status(status.phase(), status.version(),
                status.observedRevision(), status.message(), newDetails), requeueAfter);
    }

    /** True when the name is gone and its status is to be deleted. */
    public boolean removal() {
        return status == null;
    }

    /** The phase to report; null for a removal. */
    public Phase phase() {
        return status == null ? null : status.phase();
    }

    /** The version to report; null for a removal. */
    public String version() {
        return status == null ? null : status.version();
    }

    /** The observed revision to report; 0 for a removal. */
    public long observedRevision() {
        return status == null ? 0 : status.observedRevision();
    }

    /** The message to report; null for a removal. */
    public String message() {
        return status == null ? null : status.message();
    }

    /** The details to report; empty for a removal. */
    public Map<String, Object> details() {
        return status == null ? Map.of() : status.details();
    }
}
