package io.intent.setlive;

import io.intent.store.model.AppIntent;
import io.intent.store.model.RescheduleSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instance's state for the status details, and what this agent remembers in memory for it: the last health
 * result, health checks failed in a row by the running instance, and the intent of the last reconcile.
 */
final class StatusDetails {
    private static final Logger log = LoggerFactory.getLogger(StatusDetails.class);
    private final RestartBook book;
    /** Per app: health checks failed in a row by the running instance (liveness), and the last check's result. */
    final Map<String, Integer> healthFailures = new ConcurrentHashMap<>();
    final Map<String, String> lastHealth = new ConcurrentHashMap<>();
    /** Per app: the intent of the last reconcile, for the reschedule window in the status details. */
    final Map<String, AppIntent> intents = new ConcurrentHashMap<>();

    StatusDetails(RestartBook book) {
        this.book = book;
    }

    /** Forgets everything kept in memory for an app that left the host. */
    void forget(String app) {
        healthFailures.remove(app);
        lastHealth.remove(app);
        intents.remove(app);
    }

    /**
     * The instance's state for the status: runtime, pid or container id, start time, restarts, last exit, OOM
     * kill, the last health result, and failures within the reschedule window ({@code sick} past its limit).
     */
    Map<String, Object> of(AppRuntime rt, String app, long switchMs) throws Exception {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("runtime", rt.kind());
        AppRuntime.Facts f;
        try {
            f = rt.facts(app);
        } catch (Exception e) {
            log.debug("{}: no facts from {}: {}", app, rt.kind(), e.toString());
            f = AppRuntime.Facts.NONE;
        }
        Instant at = Instant.now();
        RestartRecord rec = book.get(app).observed(f.restarts(), at);
        book.put(app, rec);
        instance(d, rt, f, rec);
        String health = lastHealth.get(app);
        if (health != null) {
            d.put("health", health);
        }
        Integer failing = healthFailures.get(app);
        if (failing != null) {
            d.put("healthFailures", failing);
        }
        AppIntent intent = intents.get(app);
        RescheduleSpec rs = intent == null ? RescheduleSpec.DEFAULT : intent.rescheduleOrDefault();
        int recent = rec.failuresWithin(Duration.ofSeconds(rs.windowSecondsOrDefault()), at);
        if (recent > 0) {
            d.put("recentFailures", recent);
            d.put("failureWindowSeconds", rs.windowSecondsOrDefault());
        }
        if (recent >= rs.afterFailuresOrDefault()) {
            // the dispatcher reads this to move the instance to another host (app.reschedule)
            d.put("sick", true);
        }
        if (switchMs >= 0) {
            d.put("switchMs", switchMs);
        }
        return d;
    }

    /** The runtime's facts: id, start, restarts (liveness restarts included), last exit. */
    private static void instance(Map<String, Object> d, AppRuntime rt, AppRuntime.Facts f, RestartRecord rec) {
        boolean docker = "docker".equals(rt.kind());
        if (f.id() != null) {
            d.put(docker ? "containerId" : "pid", docker ? f.id() : (Object) Long.parseLong(f.id()));
        }
        if (f.startedAt() != null) {
            d.put("startedAt", f.startedAt().toString());
        }
        d.put("restarts", f.restarts() + (rt.countsOwnRestarts() ? 0 : rec.livenessRestarts()));
        if (rec.livenessRestarts() > 0) {
            d.put("livenessRestarts", rec.livenessRestarts());
        }
        if (f.lastExitCode() != null) {
            d.put("lastExitCode", f.lastExitCode());
        }
        if (f.lastSignal() != null) {
            d.put("lastSignal", f.lastSignal());
        }
        if (f.oomKilled() != null) {
            d.put("oomKilled", f.oomKilled());
        }
    }
}
