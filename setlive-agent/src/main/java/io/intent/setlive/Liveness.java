package io.intent.setlive;

import io.intent.agent.converge.Result;
import io.intent.store.model.HealthSpec;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An app live with the wanted spec: nothing to switch; report health, keep the endpoint right. With {@code health}
 * set, the running instance keeps being probed every {@code health.intervalSeconds}; after
 * {@code health.failureThreshold} failed probes in a row it is restarted in place, with exponential backoff
 * across restarts ({@link RestartRecord}, on disk).
 */
final class Liveness {
    private static final Logger log = LoggerFactory.getLogger(Liveness.class);
    private final RestartBook book;
    private final StatusDetails details;
    private final Endpoints endpoints;
    private final RolloutSlots slots;
    private final Duration stopTimeout;

    Liveness(RestartBook book, StatusDetails details, Endpoints endpoints, RolloutSlots slots, Duration stopTimeout) {
        this.book = book;
        this.details = details;
        this.endpoints = endpoints;
        this.slots = slots;
        this.stopTimeout = stopTimeout;
    }

    /** One probe of the live instance {@code now} of {@code job}, and what follows from it. */
    Result check(SwitchExecutor.Job job, LaunchSpec want, HealthSpec h, AppRuntime.Instance now) throws Exception {
        String app = job.app();
        AppRuntime rt = job.rt();
        Duration interval = job.liveEvery();
        Instant at = Instant.now();
        if (job.probe().healthy()) {
            details.healthFailures.remove(app);
            details.lastHealth.put(app, "passing");
            book.put(app, book.get(app).healthy(at));
            rt.retire(app, want);
            endpoints.publish(app, want);
            slots.release(app);
            Result ready = Result.ready(job.version(), job.rev(), "live and healthy", details.of(rt, app, -1));
            return interval == null ? ready : ready.requeueAfter(interval);
        }
        details.lastHealth.put(app, "failing");
        endpoints.withdraw(app);
        Duration up = Duration.between(now.since(), at);
        if (up.compareTo(job.healthTimeout()) < 0) {
            // a (re)started instance gets the health timeout to come up before its failures count
            return Result.progressing(job.version(), job.rev(), "running for " + up.toSeconds() + " s; waiting for"
                    + " health (" + job.probe().describe() + ")", details.of(rt, app, -1))
                    .requeueAfter(Duration.ofMillis(500));
        }
        if (h == null) {
            return Result.failed(job.version(), job.rev(), "running but failing its health check ("
                    + job.probe().describe() + "); left to its supervisor, not restarted (set health to have it"
                    + " restarted)").withDetails(details.of(rt, app, -1));
        }
        return failing(job, h, interval, at);
    }

    /** The live instance failed a probe, past its startup grace: count it, and restart it at the threshold. */
    private Result failing(SwitchExecutor.Job job, HealthSpec h, Duration interval, Instant at) throws Exception {
        String app = job.app();
        AppRuntime rt = job.rt();
        int failed = details.healthFailures.merge(app, 1, Integer::sum);
        int threshold = h.failureThresholdOrDefault();
        String probe = job.probe().describe();
        if (failed < threshold) {
            return Result.failed(job.version(), job.rev(), "running but failing its health check (" + probe + "), "
                    + failed + " of " + threshold + " in a row before a restart")
                    .withDetails(details.of(rt, app, -1)).requeueAfter(interval);
        }
        RestartRecord rec = book.get(app);
        if (!rec.mayRestart(at)) {
            return Result.failed(job.version(), job.rev(), "running but failing its health check (" + probe + ") "
                    + failed + " times in a row; next restart backed off until " + rec.notBefore())
                    .withDetails(details.of(rt, app, -1))
                    .requeueAfter(Duration.between(at, rec.notBefore()).plusMillis(10));
        }
        // on disk before the restart: an agent killed right after it still backs the next one off
        book.put(app, rec.restarted(at, rt.countsOwnRestarts()));
        details.healthFailures.remove(app);
        rt.restart(app, stopTimeout);
        log.warn("{}: failed its health check {} times in a row ({}); restarted it (liveness restart {})", app,
                failed, probe, rec.livenessRestarts() + 1);
        return Result.progressing(job.version(), job.rev(), "restarted after " + failed + " failed health checks in"
                + " a row (" + probe + "); liveness restart " + (rec.livenessRestarts() + 1),
                details.of(rt, app, -1)).requeueAfter(interval);
    }
}
