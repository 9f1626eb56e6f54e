package io.intent.iptables;

import io.intent.store.converge.Result;
import io.intent.store.model.Assignment;
import java.util.Map;

/**
 * One completed pass of {@link ChainSync}: which slice it read, the rules it rendered, whether it had to write,
 * and what failed. Every app's status is derived from the latest pass, so statuses reflect the last apply.
 *
 * @param ticket   the last request this pass answers (requests up to it were made before it read anything)
 * @param slice    the assignments it read, or null when reading them failed
 * @param rules    the rules it rendered (with the kept rules of invalid apps), or null when it got no slice
 * @param wrote    whether it had to write (restore, file replace)
 * @param failure  why reading or writing failed (iptables' own error output), or null
 * @param finishedNanos {@link System#nanoTime()} when it finished
 */
public record SyncPass(long ticket, DesiredSlice slice, ChainRules rules, boolean wrote, String failure,
                       long finishedNanos) {

    public boolean ok() {
        return failure == null;
    }

    /**
     * Whether this pass already answers a reconcile of {@code app} whose desired value has {@code modRevision}
     * ({@code -1} when the app was removed): it is recent, it succeeded, and it read that value or a newer one.
     */
    public boolean covers(String app, long modRevision, long nowNanos, long freshNanos) {
        if (!ok() || nowNanos - finishedNanos > freshNanos) {
            return false;
        }
        return modRevision < 0 ? !slice.contains(app) : slice.revision() >= modRevision;
    }

    /** The status of {@code app} after this pass. */
    public Result resultFor(String app) {
        Assignment a = slice == null ? null : slice.assignments().get(app);
        String version = a == null || a.intent() == null ? null : a.intent().active();
        long revision = a == null ? 0 : a.appRevision();
        String rejected = rules == null ? null : rules.rejected().get(app);
        if (rejected != null) {
            int kept = rules.count(app);
            return Result.failed(version, revision, rejected + (kept == 0 ? "" : "; its " + kept
                    + " earlier rules are kept"));
        }
        boolean present = slice != null && slice.contains(app);
        if (!ok()) {
            return Result.failed(version, revision, present || slice == null ? failure
                    : "rules of removed app not removed: " + failure);
        }
        if (!present) {
            return Result.removed();
        }
        if (a == null) {
            // Undecodable values are reported by the converge kit; it does not ask us about them.
            return Result.failed(null, 0, "assignment does not decode: " + slice.undecodable().get(app));
        }
        int n = rules.count(app);
        return Result.ready(version, revision, n + (n == 1 ? " rule" : " rules") + " in " + rules.chain(),
                Map.of("rules", n, "chain", rules.chain()));
    }
}
