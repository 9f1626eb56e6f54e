package io.intent.store.converge;

import io.intent.store.model.Phase;
import java.time.Duration;
import java.util.Map;

/**
 * What one reconcile achieved: the phase to report (with version, observed revision, message and details),
 * and optionally when to look again. {@link #removed()} deletes the status instead.
 */
public record Result(Phase phase, String version, long observedRevision, String message,
                     Map<String, Object> details, Duration requeueAfter, boolean removal) {

    public Result {
        details = details == null ? Map.of() : Map.copyOf(details);
    }

    public static Result ready(String version, long revision, String message, Map<String, Object> details) {
        return new Result(Phase.READY, version, revision, message, details, null, false);
    }

    public static Result waiting(String version, long revision, String message) {
        return new Result(Phase.WAITING, version, revision, message, Map.of(), null, false);
    }

    public static Result progressing(String version, long revision, String message, Map<String, Object> details) {
        return new Result(Phase.PROGRESSING, version, revision, message, details, null, false);
    }

    public static Result failed(String version, long revision, String message) {
        return new Result(Phase.FAILED, version, revision, message, Map.of(), null, false);
    }

    public static Result removed() {
        return new Result(null, null, 0, null, Map.of(), null, true);
    }

    public Result requeueAfter(Duration d) {
        return new Result(phase, version, observedRevision, message, details, d, removal);
    }

    public Result withDetails(Map<String, Object> newDetails) {
        return new Result(phase, version, observedRevision, message, newDetails, requeueAfter, removal);
    }
}
