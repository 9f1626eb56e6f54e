package io.intent.iptables;

import io.intent.agent.converge.Result;
import io.intent.store.model.Assignment;
import java.util.Map;

/**
 * One completed pass of {@link ChainSync}: which slice it rendered, the rules it rendered, whether it had to write,
 * and what failed. Every app's status is derived from its pass, so statuses reflect the last apply.
 *
 * @param slice    the assignments it rendered
 * @param rules    the rules it rendered (with the kept rules of invalid apps)
 * @param wrote    whether it had to write (restore, file replace)
 * @param failure  why reading or writing failed (iptables' own error output), or null
 */
public record SyncPass(DesiredSlice slice, ChainRules rules, boolean wrote, String failure) {

    public boolean ok() {
        return failure == null;
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
