package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.Result;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Does what {@link SwitchPlan} decided: stops, swaps {@code current}, starts, records the switch on disk, and acts
 * on each health check of a pending switch (publish, roll back, stop, back off). It decides nothing of its own.
 */
final class SwitchExecutor {
    /** The longest a reconcile waits for health right after a start; later checks are requeued reconciles. */
    static final Duration FIRST_LOOK = Duration.ofMillis(50);
    private static final Logger log = LoggerFactory.getLogger(SwitchExecutor.class);

    /**
     * One app's reconcile, as far as a switch needs it.
     *
     * @param liveEvery how often the live instance is probed (liveness), or null without {@code health}
     */
    record Job(String app, long rev, String version, AppRuntime rt, HealthProbe probe, Duration healthTimeout,
               Duration liveEvery) {
    }

    private final InstallLayout layout;
    private final Duration stopTimeout;
    private final PendingSwitches pending;
    private final RestartBook book;
    private final RolloutSlots slots;
    private final Endpoints endpoints;
    private final StatusDetails details;
    /** Apps whose pending switch's slot this agent has confirmed on its own lease (once per process). */
    private final Set<String> slotOnLease = ConcurrentHashMap.newKeySet();
    /** A one-shot run ({@code --once}): it hands the health wait of a node it starts over to that node. */
    volatile boolean once;
    /** Set once this process has asked runit to replace it with another node: its lease must outlive it. */
    volatile boolean handingOver;

    SwitchExecutor(InstallLayout layout, Duration stopTimeout, PendingSwitches pending, RestartBook book,
                   RolloutSlots slots, Endpoints endpoints, StatusDetails details) {
        this.layout = layout;
        this.stopTimeout = stopTimeout;
        this.pending = pending;
        this.book = book;
        this.slots = slots;
        this.endpoints = endpoints;
        this.details = details;
    }

    /**
     * Starts {@code want} as {@code plan} says, the slot question settled ({@code granted}); the switch is on disk
     * before the stop, so an agent killed from here on still knows what to roll back to.
     */
    Result start(Job job, LaunchSpec want, String wantPrint, SwitchPlan.Switch plan, boolean granted,
                 boolean otherHas, AppRuntime other, long entered) throws Exception {
        String app = job.app();
        PendingSwitch p = PendingSwitch.begin(wantPrint, want, plan.previous(), plan.holdsSlot(granted),
                Instant.now()).priorFailures(plan.priorFailures());
        pending.put(app, p);
        slotOnLease.add(app);
        if (granted) {
            endpoints.withdrawn(app);
        } else {
            endpoints.withdraw(app);
        }
        if (plan.replaceSelf()) {
            return replaceThisNode(job, want, p);
        }
        long t0 = System.nanoTime();
        job.rt().stop(app, stopTimeout);
        if (otherHas) {
            other.remove(app, stopTimeout);
        }
        long tStopped = System.nanoTime();
        CurrentLink.point(layout, app, job.version());
        job.rt().start(want, stopTimeout);
        long tStarted = System.nanoTime();
        p = p.startedAt(Instant.now());
        pending.put(app, p);
        // a short look at once: most apps answer within milliseconds, and a bounded wait here holds no worker long
        boolean healthy = job.probe().await(FIRST_LOOK);
        log.info("{}: {} -> {} started (checks {} ms, stop {} ms, swap+start {} ms){}", app,
                plan.previous() == null ? "nothing" : plan.previous().version(), job.version(),
                (t0 - entered) / 1_000_000, (tStopped - t0) / 1_000_000, (tStarted - tStopped) / 1_000_000,
                healthy ? "" : "; waiting for health");
        return onProbe(job, p, healthy);
    }

    /**
     * The node switching itself: it cannot stop itself and then start the new build, so it arms the run script's
     * watchdog, swaps {@code current}, rewrites the run script and has runit restart it (SIGTERM, then the new run
     * script). The new node finds the switch on disk and finishes it, or rolls it back.
     */
    private Result replaceThisNode(Job job, LaunchSpec want, PendingSwitch p) throws Exception {
        if (p.previous() != null) {
            SelfDeploy.armFallback(layout.service(job.app()), p.previous().version());
        }
        CurrentLink.point(layout, job.app(), job.version());
        job.rt().start(want, stopTimeout);
        pending.put(job.app(), p.startedAt(Instant.now()));
        return restartThisNode(job, "restarting the node into " + job.version() + "; the new node finishes the switch");
    }

    /** Asks runit to restart this node (with the run script now on disk); the lease is left to the next node. */
    private Result restartThisNode(Job job, String message) throws Exception {
        handingOver = true;
        log.info("{}: {}", job.app(), message);
        Sv.control(layout.service(job.app()), "t");
        return Result.progressing(job.version(), job.rev(), message, Map.of()).requeueAfter(Duration.ofSeconds(1));
    }

    /** This node is being replaced by the one its switch started (runit restarts it): that node finishes the switch. */
    Result handedOver(Job job, PendingSwitch p) {
        return Result.progressing(job.version(), job.rev(), "restarting the node into " + p.started().version()
                + "; the new node finishes the switch", Map.of()).requeueAfter(Duration.ofSeconds(1));
    }

    /**
     * The node's run script went back to the last healthy build because the new one did not start: this is that
     * node again. Puts its own run script back and reports the failure, retried with backoff.
     */
    Result watchdogRolledBack(Job job, PendingSwitch p) throws Exception {
        LaunchSpec back = p.previous();
        job.rt().start(back, stopTimeout);
        endpoints.publish(job.app(), back);
        slots.release(job.app());
        forget(job.app());
        String failure = p.started().version() + " did not start (" + SelfDeploy.FAILED_STARTS + " failed starts in a"
                + " row); the node's run script went back to " + back.version();
        log.warn("{}: {}", job.app(), failure);
        return backOff(job, p.fingerprint(), p.attempts() + 1, Result.failed(job.version(), job.rev(), failure
                + ", which serves; retrying " + p.started().version() + " with backoff"));
    }

    /** Goes on waiting for a pending switch's health; after an agent restart, first moves its slot onto our lease. */
    Result continueSwitch(Job job, PendingSwitch p) throws Exception {
        if (p.slot() && slotOnLease.add(job.app())) {
            // after an agent restart the slot hangs on the old lease: move it onto ours, or it expires under us
            slots.acquire(job.app(), p.started().version(), java.util.List.of());
        }
        return onProbe(job, p, job.probe().healthy());
    }

    /** The wanted spec is backing off after failing (the restart book): report the failure again, touch nothing. */
    Result backingOff(Job job, SwitchPlan.BackOff plan) throws Exception {
        return Result.failed(job.version(), job.rev(), plan.failure() + " (backing off until " + plan.until() + ")")
                .withDetails(details.of(job.rt(), job.app(), -1)).requeueAfter(plan.left(Instant.now()));
    }

    /** Acts on one health check of a pending switch, as {@link SwitchPlan#afterProbe} says. */
    private Result onProbe(Job job, PendingSwitch p, boolean healthy) throws Exception {
        String app = job.app();
        Instant now = Instant.now();
        boolean backInstalled = p.previous() != null && layout.completed(app, p.previous().version()).isPresent();
        boolean selfIsNew = SelfDeploy.isNode(app) && !p.rollingBack()
                && job.rt().inspect(app).filter(SelfDeploy::isThisProcess).isPresent();
        SwitchPlan.Outcome o = SwitchPlan.afterProbe(p, healthy, now, job.healthTimeout(), backInstalled,
                SelfDeploy.isNode(app), selfIsNew, once);
        return switch (o) {
            case WAIT -> Result.progressing(job.version(), job.rev(), p.rollingBack()
                    ? p.failure() + "; rolling back to " + p.started().version() + ", waiting for its health ("
                    + job.probe().describe() + ")"
                    : "started " + job.version() + "; waiting for health (" + job.probe().describe() + ", up to "
                    + job.healthTimeout().toSeconds() + " s)", details.of(job.rt(), app, -1))
                    .requeueAfter(p.recheckAfter(now));
            // the node started under runit waits for this run's lock: it finishes its own switch after it
            case HAND_OVER_TO_NODE -> Result.ready(job.version(), job.rev(), "started the node " + job.version()
                    + " under runit; it finishes its own switch (the health wait) once this one-shot run has ended",
                    details.of(job.rt(), app, -1));
            case SWITCHED -> switched(job, p);
            case ROLLED_BACK -> rolledBack(job, p);
            case ROLLBACK_FAILED -> rollbackFailed(job, p);
            default -> switchFailed(job, p, o);
        };
    }

    private Result switched(Job job, PendingSwitch p) throws Exception {
        String app = job.app();
        String version = job.version();
        book.put(app, book.get(app).switched());
        details.lastHealth.put(app, "passing");
        job.rt().retire(app, p.started());
        endpoints.publish(app, p.started());
        slots.release(app);
        forget(app);
        String from = p.previous() == null ? null : p.previous().version();
        String how = from == null ? "started " + version : from.equals(version) ? "restarted " + version
                + " with a new spec" : "switched " + from + " -> " + version;
        long ms = Duration.between(p.requestedAt(), Instant.now()).toMillis();
        log.info("{}: {} in {} ms; healthy ({})", app, how, ms, job.probe().describe());
        Result ready = Result.ready(version, job.rev(), how + "; live and healthy", details.of(job.rt(), app, ms));
        // liveness probing starts right after a switch, not at the next resync
        return job.liveEvery() == null ? ready : ready.requeueAfter(job.liveEvery());
    }

    /** The new spec timed out: put the last healthy spec back (itself waited for, between reconciles), or stop. */
    private Result switchFailed(Job job, PendingSwitch p, SwitchPlan.Outcome o) throws Exception {
        String app = job.app();
        String failure = job.version() + " did not pass its health check (" + job.probe().describe() + ") within "
                + job.healthTimeout().toSeconds() + " s";
        int attempts = SwitchPlan.attemptsAfterFailure(p, book.get(app));
        LaunchSpec back = p.previous();
        switch (o) {
            case LEAVE_NODE_RUNNING:
                forget(app);
                return backOff(job, p.fingerprint(), attempts, Result.failed(job.version(), job.rev(), failure
                        + "; no earlier node build to go back to; left running"));
            case RESTART_NODE_INTO_PREVIOUS:
                // the new node is this process and is not healthy: put the last healthy build back and let runit
                // restart into it; that node finishes the rollback
                SelfDeploy.disarm(layout.service(app));
                CurrentLink.point(layout, app, back.version());
                job.rt().start(back, stopTimeout);
                pending.put(app, p.rollback(job.rt().fingerprint(back), failure, attempts, Instant.now()));
                return restartThisNode(job, failure + "; restarting the node into " + back.version());
            case STOP:
                job.rt().stop(app, stopTimeout);
                forget(app);
                return backOff(job, p.fingerprint(), attempts, Result.failed(job.version(), job.rev(), failure
                        + "; stopped (no earlier version to go back to); retrying with backoff"));
            default:
                job.rt().stop(app, stopTimeout);
                CurrentLink.point(layout, app, back.version());
                job.rt().start(back, stopTimeout);
                PendingSwitch r = p.rollback(job.rt().fingerprint(back), failure, attempts, Instant.now());
                pending.put(app, r);
                return onProbe(job, r, job.probe().await(FIRST_LOOK));
        }
    }

    private Result rolledBack(Job job, PendingSwitch p) throws Exception {
        LaunchSpec back = p.started();
        endpoints.publish(job.app(), back);
        slots.release(job.app());
        forget(job.app());
        log.warn("{}: {}; rolled back to {}", job.app(), p.failure(), back.version());
        return backOff(job, p.failedFingerprint(), p.attempts(), Result.failed(job.version(), job.rev(), p.failure()
                + "; rolled back to " + back.version() + ", which serves; retrying " + job.version() + " with backoff"));
    }

    private Result rollbackFailed(Job job, PendingSwitch p) throws Exception {
        job.rt().stop(job.app(), stopTimeout);
        forget(job.app());
        // the slot stays held: this host is unavailable, so no other host may go down for this app meanwhile
        log.warn("{}: {}; rollback to {} failed too", job.app(), p.failure(), p.started().version());
        return backOff(job, p.failedFingerprint(), p.attempts(), Result.failed(job.version(), job.rev(), p.failure()
                + "; rollback to " + p.started().version() + " failed its health check too; nothing serves; retrying"
                + " with backoff"));
    }

    /**
     * Records a failed spec in the restart book on disk, so neither a resync nor an agent restart retries it before
     * the crash-loop backoff says so ({@link SwitchPlan.BackOff}), and a new spec is tried at once.
     */
    private Result backOff(Job job, String fingerprint, int attempts, Result failed) throws Exception {
        String app = job.app();
        // one crash-loop policy with liveness restarts: every retry of a failing version takes the working one down
        // for the health timeout again, so it is not retried within seconds
        Duration wait = RestartRecord.CRASH_LOOP.delay(attempts);
        RestartRecord r = book.get(app).switchFailed(fingerprint, Instant.now(), wait, failed.message());
        if (r.failedAttempts() != attempts) {
            // the attempt count is the caller's (a rollback carries it); keep the record in step with it
            r = new RestartRecord(r.livenessRestarts(), r.restartAttempts(), r.lastRestartAt(), r.notBefore(),
                    r.failures(), r.seenRestarts(), fingerprint, attempts, r.failedNotBefore(), r.failedMessage());
        }
        book.put(app, r);
        details.lastHealth.put(app, "failing");
        return failed.withDetails(details.of(job.rt(), app, -1)).requeueAfter(wait);
    }

    /** The switch is over (or given up): its record on disk goes. */
    void forget(String app) throws java.io.IOException {
        if (SelfDeploy.isNode(app)) {
            SelfDeploy.disarm(layout.service(app));
        }
        pending.remove(app);
        slotOnLease.remove(app);
    }

    /** Whether a switch of {@code app} is recorded on disk. */
    Optional<PendingSwitch> pending(String app) {
        return pending.get(app);
    }
}
