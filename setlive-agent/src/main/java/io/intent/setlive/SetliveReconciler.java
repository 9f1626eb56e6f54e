package io.intent.setlive;

import io.intent.store.InstallLayout;
import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.converge.Reconciler;
import io.intent.store.converge.Result;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Endpoint;
import io.intent.store.model.HealthSpec;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * setlive's reconciler: makes the assignment's active version the live one on this host. It checks only the
 * disk for its precondition (a complete install), then, when what runs differs from the wanted
 * {@link LaunchSpec}: takes a rollout slot (if a healthy instance is about to go down), withdraws the endpoint,
 * stops, swaps {@code current}, starts, then waits for health between reconciles (a {@link PendingSwitch} on disk,
 * rechecked by requeueing, so no worker waits), publishes the endpoint and gives the slot back.
 * When the new version fails its health check, the previous one is put back and started, so the host keeps
 * serving; the status says so, and the kit retries the switch with crash-loop backoff.
 */
public final class SetliveReconciler implements Reconciler<Assignment> {
    /**
     * How soon a host waiting for a rollout slot looks again if nothing woke it: only a safety net, the watch of its
     * grants wakes the app as soon as the leader grants the slot.
     */
    static final java.time.Duration SLOT_RETRY = java.time.Duration.ofSeconds(2);
    /** Reconciles at once: they mostly wait on runsv, health probes and etcd, not on the CPU. */
    static final int WORKERS = 8;
    /** The longest a reconcile waits for health right after a start; later checks are requeued reconciles. */
    static final Duration FIRST_LOOK = Duration.ofMillis(50);
    private static final Logger log = LoggerFactory.getLogger(SetliveReconciler.class);

    private final EtcdStore store;
    private final KeyLayout keys;
    private final InstallLayout layout;
    private final String host;
    private final String address;
    private final SetliveConfig config;
    private final RunitRuntime runit;
    private final DockerRuntime docker;
    private final AgentLease lease;
    private final RolloutSlots slots;
    private final InstallWatch installs;
    /** A switch that failed its health check: not retried before {@code notBefore} (crash-loop backoff). */
    private record FailedSwitch(String fingerprint, int attempts, long notBeforeNanos, Result result) {
    }

    private final Map<String, FailedSwitch> failedSwitches = new ConcurrentHashMap<>();
    /** Switches waiting for their health check between reconciles, on disk. */
    private final PendingSwitches pending;
    /** Apps whose pending switch's slot this agent has confirmed on its own lease (once per process). */
    private final Set<String> slotOnLease = ConcurrentHashMap.newKeySet();
    /** Per app: restarts, backoff and recent failures, on disk so they survive an agent restart. */
    private final RestartBook book;
    /** Per app: health checks failed in a row by the running instance (liveness), and the last check's result. */
    private final Map<String, Integer> healthFailures = new ConcurrentHashMap<>();
    private final Map<String, String> lastHealth = new ConcurrentHashMap<>();
    /** Per app with {@code health}, how often a running instance is probed (liveness): from the intent in hand. */
    private final Map<String, Duration> probeEvery = new ConcurrentHashMap<>();
    /** Per app: the intent of the last reconcile, for the reschedule window in the status details. */
    private final Map<String, AppIntent> intents = new ConcurrentHashMap<>();
    /** What this agent last published per app, with the lease it hangs on, to skip needless writes. */
    private final Map<String, Entry<Endpoint>> published = new ConcurrentHashMap<>();

    public SetliveReconciler(EtcdStore store, InstallLayout layout, String host, String address,
                             Duration leaseTtl, SetliveConfig config) {
        this.store = store;
        this.keys = store.keys();
        this.layout = layout;
        this.host = host;
        this.address = address;
        this.config = config;
        this.runit = new RunitRuntime(layout, config.runsvdir(), config.logLimits());
        this.docker = new DockerRuntime(config.dockerHost(), host, address, config.logLimits(), layout);
        this.lease = new AgentLease(store, leaseTtl);
        this.slots = new RolloutSlots(store, host, lease);
        this.pending = new PendingSwitches(runit.stateDir());
        this.book = new RestartBook(runit.stateDir());
        this.installs = new InstallWatch(layout);
    }

    /** A one-shot run ({@code --once}): it hands the health wait of a node it starts over to that node. */
    private volatile boolean once;
    /** Set once this process has asked runit to replace it with another node: its lease must outlive it. */
    private volatile boolean handingOver;

    /**
     * Sets what the {@value SelfDeploy#APP} app needs: the config file a node started by this agent runs with
     * (this process's own {@code --config}), and whether this is a one-shot run.
     */
    public SetliveReconciler node(java.nio.file.Path configFile, boolean oneShot) {
        runit.nodeConfig(configFile);
        this.once = oneShot;
        return this;
    }

    @Override
    public String agent() {
        return "setlive";
    }

    @Override
    public int workers() {
        return WORKERS;
    }

    @Override
    public void wakeWith(java.util.function.Consumer<String> wake) {
        slots.onGrant(wake);
        installs.onInstall(wake);
    }

    @Override
    public Set<String> actualNames() throws Exception {
        Set<String> names = new TreeSet<>(runit.apps());
        names.addAll(docker.apps());
        if (Files.isDirectory(layout.appsDir())) {
            try (var s = Files.list(layout.appsDir())) {
                s.map(p -> p.getFileName().toString()).filter(io.intent.store.codec.Names::valid).forEach(names::add);
            }
        }
        return names;
    }

    @Override
    public Result reconcile(String app, Entry<Assignment> desired) throws Exception {
        long entered = System.nanoTime();
        if (desired == null) {
            return remove(app);
        }
        Assignment a = desired.value();
        long rev = a.appRevision();
        AppIntent intent = a.intent();
        if (intent == null || !app.equals(a.app()) || !host.equals(a.host())) {
            return Result.failed(null, rev, "assignment at " + desired.key() + " names app " + a.app() + " on host "
                    + a.host() + ", or has no intent; leaving whatever runs alone");
        }
        String kind = intent.runtime() != null ? intent.runtime() : config.runtimeDefault();
        intent = intent.withRuntime(kind);
        intents.put(app, intent);
        List<FieldError> errors = Validation.check(app, intent);
        if (!errors.isEmpty()) {
            return Result.failed(intent.active(), rev, "invalid intent, leaving whatever runs alone: "
                    + errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        }
        String version = intent.active();
        Optional<InstallLayout.Marker> marker = layout.completed(app, version);
        if (marker.isEmpty()) {
            // woken when the preparer renames an install in; a look after watching catches one that landed meanwhile
            installs.await(app);
            marker = layout.completed(app, version);
        }
        if (marker.isEmpty()) {
            return Result.waiting(version, rev, "waiting for install of " + app + " " + version + " at "
                    + layout.install(app, version));
        }
        String wantSha = intent.versions().get(version).sha256();
        if (!intent.isDocker() && wantSha != null && !wantSha.equals(marker.get().sha256())) {
            // other bytes under the same name: never run them without a switch; the preparer refuses to replace an
            // install in use, so this waits (leaving what runs alone) until the operator uses a new version name
            return Result.waiting(version, rev, "the install of " + app + " " + version + " has sha256 "
                    + marker.get().sha256() + ", the intent asks for sha256 " + wantSha + "; leaving what runs alone"
                    + " (publish new bytes under a new version name)");
        }
        AppRuntime rt = intent.isDocker() ? docker : runit;
        AppRuntime other = intent.isDocker() ? runit : docker;
        if (intent.isDocker() && marker.get().imageId() == null) {
            return Result.failed(version, rev, "install marker of docker version " + version + " names no image id");
        }
        LaunchSpec want = LaunchSpec.of(a, host, address, rt.kind(), layout.install(app, version).toString(),
                intent.isDocker() ? marker.get().imageId() : null);
        String wantPrint = rt.fingerprint(want);
        HealthProbe probe = HealthProbe.of(intent, address);
        if (intent.health() == null) {
            probeEvery.remove(app);
        } else {
            probeEvery.put(app, Duration.ofSeconds(intent.health().intervalSecondsOrDefault()));
        }
        Duration healthTimeout = Duration.ofSeconds(intent.health() == null ? 30
                : intent.health().timeoutSecondsOrDefault());

        Optional<AppRuntime.Instance> now = rt.inspect(app);
        boolean otherHas = intent.isDocker() ? runit.apps().contains(app) : docker.mayHave(app);
        boolean sameSpec = now.isPresent() && wantPrint.equals(now.get().fingerprint())
                && layout.currentVersion(app).filter(version::equals).isPresent();
        Optional<PendingSwitch> inFlight = pending.get(app);
        if (inFlight.isPresent()) {
            Result r = awaitHealth(app, rev, version, wantPrint, intent, inFlight.get(), now, otherHas, probe,
                    healthTimeout, rt);
            if (r != null) {
                return r;
            }
            // superseded (the operator moved on) or never started (an agent crash): switch again below
        }
        if (sameSpec && now.get().up() && !otherHas) {
            return steady(app, rev, version, want, intent, now.get(), probe, healthTimeout);
        }
        healthFailures.remove(app);

        // a switch (or a first start, or a restart after a crash)
        FailedSwitch failedBefore = failedSwitches.computeIfAbsent(app, name -> fromBook(name, version, rev));
        if (failedBefore != null && !failedBefore.fingerprint().equals(wantPrint)) {
            failedSwitches.remove(app);
            failedBefore = null;
        }
        if (failedBefore != null && System.nanoTime() < failedBefore.notBeforeNanos()) {
            // a resync must not defeat the crash-loop backoff: keep reporting the failure, touch nothing
            return failedBefore.result().requeueAfter(Duration.ofNanos(failedBefore.notBeforeNanos()
                    - System.nanoTime()));
        }
        // never take a serving instance down without a slot (probed only when no slot is free: a slot taken for an
        // instance that turns out not to serve is harmless, it goes back once the new one is healthy)
        boolean running = now.isPresent() && now.get().up() || otherHas;
        // the endpoint goes only once the slot is granted, so an instance waiting for a slot keeps serving
        boolean withdrawn = running && slots.acquire(app, version, List.of(Op.delete(keys.endpoint(app, host))));
        if (running && !withdrawn && probe.healthy()) {
            // the grant's watch wakes this app when the slot is granted (RolloutSlots); SLOT_RETRY is a safety net
            return Result.waiting(version, rev, "waiting for the leader to grant a rollout slot (maxUnavailable "
                    + intent.maxUnavailableOrDefault() + ")")
                    .requeueAfter(SLOT_RETRY);
        }
        // what to go back to if this fails: the last healthy spec of a switch that was still in flight, else what ran
        Optional<LaunchSpec> previous = (inFlight.isPresent()
                ? Optional.ofNullable(inFlight.get().lastHealthy())
                : now.filter(i -> i.spec() != null && !sameSpec).map(AppRuntime.Instance::spec))
                .filter(p -> layout.completed(app, p.version()).isPresent());
        boolean slot = withdrawn || inFlight.map(PendingSwitch::slot).orElse(false);
        // on disk before the stop: an agent killed from here on still knows what to roll back to
        PendingSwitch p = PendingSwitch.begin(wantPrint, want, previous.orElse(null), slot, Instant.now())
                .priorFailures(failedBefore == null ? 0 : failedBefore.attempts());
        pending.put(app, p);
        slotOnLease.add(app);
        if (SelfDeploy.isNode(app) && now.isPresent() && SelfDeploy.isThisProcess(now.get())) {
            return replaceThisNode(app, rev, version, want, p, withdrawn, rt);
        }
        long t0 = System.nanoTime();
        if (withdrawn) {
            published.remove(app);
        } else {
            withdraw(app);
        }
        rt.stop(app, config.stopTimeout());
        if (otherHas) {
            other.remove(app, config.stopTimeout());
        }
        long tStopped = System.nanoTime();
        CurrentLink.point(layout, app, version);
        rt.start(want, config.stopTimeout());
        long tStarted = System.nanoTime();
        p = p.startedAt(Instant.now());
        pending.put(app, p);
        // a short look at once: most apps answer within milliseconds, and a bounded wait here holds no worker long
        boolean healthy = probe.await(FIRST_LOOK);
        log.info("{}: {} -> {} started (checks {} ms, stop {} ms, swap+start {} ms){}", app,
                previous.map(LaunchSpec::version).orElse("nothing"), version, (t0 - entered) / 1_000_000,
                (tStopped - t0) / 1_000_000, (tStarted - tStopped) / 1_000_000, healthy ? "" : "; waiting for health");
        return decide(app, rev, version, p, healthy, probe, healthTimeout, rt);
    }

    /**
     * The node switching itself: it cannot stop itself and then start the new build, so it arms the run script's
     * watchdog, swaps {@code current}, rewrites the run script and has runit restart it (SIGTERM, then the new run
     * script). The new node finds the switch on disk and finishes it, or rolls it back.
     */
    private Result replaceThisNode(String app, long rev, String version, LaunchSpec want, PendingSwitch p,
                                   boolean withdrawn, AppRuntime rt) throws Exception {
        if (withdrawn) {
            published.remove(app);
        } else {
            withdraw(app);
        }
        if (p.previous() != null) {
            SelfDeploy.armFallback(layout.service(app), p.previous().version());
        }
        CurrentLink.point(layout, app, version);
        rt.start(want, config.stopTimeout());
        pending.put(app, p.startedAt(Instant.now()));
        return restartThisNode(app, rev, version, "restarting the node into " + version
                + "; the new node finishes the switch");
    }

    /** Asks runit to restart this node (with the run script now on disk); the lease is left to the next node. */
    private Result restartThisNode(String app, long rev, String version, String message) throws Exception {
        handingOver = true;
        log.info("{}: {}", app, message);
        Sv.control(layout.service(app), "t");
        return Result.progressing(version, rev, message, Map.of()).requeueAfter(Duration.ofSeconds(1));
    }

    /**
     * The node's run script went back to the last healthy build because the new one did not start: this is that
     * node again. Puts its own run script back and reports the failure, retried with backoff.
     */
    private Result watchdogRolledBack(String app, long rev, String version, PendingSwitch p, AppRuntime rt)
            throws Exception {
        LaunchSpec back = p.previous();
        rt.start(back, config.stopTimeout());
        publish(app, back);
        slots.release(app);
        forget(app);
        String failure = p.started().version() + " did not start (" + SelfDeploy.FAILED_STARTS + " failed starts in a"
                + " row); the node's run script went back to " + back.version();
        log.warn("{}: {}", app, failure);
        return backOff(app, p.fingerprint(), p.attempts() + 1, Result.failed(version, rev, failure
                + ", which serves; retrying " + p.started().version() + " with backoff").withDetails(details(rt, app,
                -1)));
    }

    /**
     * Continues a switch waiting for health when what it started is still what is configured and what the operator
     * wants; returns null when it is superseded or was never started, and the caller switches afresh.
     */
    private Result awaitHealth(String app, long rev, String version, String wantPrint, AppIntent intent,
                               PendingSwitch p, Optional<AppRuntime.Instance> now, boolean otherHas, HealthProbe probe,
                               Duration healthTimeout, AppRuntime rt) throws Exception {
        if (SelfDeploy.isNode(app) && !p.rollingBack() && p.previous() != null && p.startedAt() != null
                && !p.previous().version().equals(p.started().version())
                && layout.currentVersion(app).filter(p.previous().version()::equals).isPresent()) {
            return watchdogRolledBack(app, rev, version, p, rt);
        }
        // what the switch started is what is there; a started version that keeps crashing counts too (Docker then
        // lists no running container, or none at all, or an older one): it is waited for until the timeout
        boolean configured = !otherHas && p.startedAt() != null
                && (now.isEmpty() || !now.get().up() || p.fingerprint().equals(now.get().fingerprint()))
                && layout.currentVersion(app).filter(p.started().version()::equals).isPresent();
        if (!configured || !p.wantedFingerprint().equals(wantPrint)) {
            log.info("{}: the pending switch to {} is {}; switching afresh", app, p.started().version(),
                    configured ? "superseded" : "not what runs (" + now.map(i -> (i.up() ? "up " : "down ")
                            + i.fingerprint()).orElse("nothing") + ", current "
                            + layout.currentVersion(app).orElse("none") + ")");
            return null;
        }
        if (p.slot() && slotOnLease.add(app)) {
            // after an agent restart the slot hangs on the old lease: move it onto ours, or it expires under us
            slots.acquire(app, p.started().version(), List.of());
        }
        return decide(app, rev, version, p, probe.healthy(), probe, healthTimeout, rt);
    }

    /** Acts on one health check of a pending switch: finish it, keep waiting (requeued), or give up on it. */
    private Result decide(String app, long rev, String version, PendingSwitch p, boolean healthy, HealthProbe probe,
                          Duration healthTimeout, AppRuntime rt) throws Exception {
        Instant now = Instant.now();
        switch (p.judge(healthy, now, healthTimeout)) {
            case WAIT:
                if (once && SelfDeploy.isNode(app) && p.startedAt() != null) {
                    // the node started under runit waits for this run's lock: it finishes its own switch after it
                    return Result.ready(version, rev, "started the node " + version + " under runit; it finishes its"
                            + " own switch (the health wait) once this one-shot run has ended", details(rt, app, -1));
                }
                String msg = p.rollingBack()
                        ? p.failure() + "; rolling back to " + p.started().version() + ", waiting for its health ("
                        + probe.describe() + ")"
                        : "started " + version + "; waiting for health (" + probe.describe() + ", up to "
                        + healthTimeout.toSeconds() + " s)";
                return Result.progressing(version, rev, msg, details(rt, app, -1)).requeueAfter(p.recheckAfter(now));
            case HEALTHY:
                return p.rollingBack() ? rolledBack(app, rev, version, p, rt) : switched(app, rev, version, p, probe, rt);
            default:
                return p.rollingBack() ? rollbackFailed(app, rev, version, p, rt)
                        : switchFailed(app, rev, version, p, probe, healthTimeout, rt);
        }
    }

    private Result switched(String app, long rev, String version, PendingSwitch p, HealthProbe probe, AppRuntime rt)
            throws Exception {
        failedSwitches.remove(app);
        book.put(app, book.get(app).switched());
        lastHealth.put(app, "passing");
        rt.retire(app, p.started());
        publish(app, p.started());
        slots.release(app);
        forget(app);
        String from = p.previous() == null ? null : p.previous().version();
        String how = from == null ? "started " + version : from.equals(version) ? "restarted " + version
                + " with a new spec" : "switched " + from + " -> " + version;
        long ms = Duration.between(p.requestedAt(), Instant.now()).toMillis();
        log.info("{}: {} in {} ms; healthy ({})", app, how, ms, probe.describe());
        Result ready = Result.ready(version, rev, how + "; live and healthy", details(rt, app, ms));
        // liveness probing starts right after a switch, not at the next resync
        Duration every = probeEvery.get(app);
        return every == null ? ready : ready.requeueAfter(every);
    }

    /** The new spec timed out: stop it and put the last healthy spec back (itself waited for, between reconciles). */
    private Result switchFailed(String app, long rev, String version, PendingSwitch p, HealthProbe probe,
                                Duration healthTimeout, AppRuntime rt) throws Exception {
        String failure = version + " did not pass its health check (" + probe.describe() + ") within "
                + healthTimeout.toSeconds() + " s";
        // counted from the records on disk (the restart book, the switch record), so a restarted agent, or a node
        // that replaced itself, keeps growing the backoff
        int attempts = Math.max(p.attempts() + 1, book.get(app).failedAttemptsOf(p.fingerprint()) + 1);
        LaunchSpec back = p.previous();
        Optional<AppRuntime.Instance> self = SelfDeploy.isNode(app) ? rt.inspect(app).filter(SelfDeploy::isThisProcess)
                : Optional.empty();
        if (self.isPresent()) {
            // the new node is this process and is not healthy: put the last healthy build back and let runit
            // restart into it; that node finishes the rollback
            if (back == null || layout.completed(app, back.version()).isEmpty()) {
                forget(app);
                return backOff(app, p.fingerprint(), attempts, Result.failed(version, rev, failure
                        + "; no earlier node build to go back to; left running"));
            }
            SelfDeploy.disarm(layout.service(app));
            CurrentLink.point(layout, app, back.version());
            rt.start(back, config.stopTimeout());
            pending.put(app, p.rollback(rt.fingerprint(back), failure, attempts, Instant.now()));
            return restartThisNode(app, rev, version, failure + "; restarting the node into " + back.version());
        }
        rt.stop(app, config.stopTimeout());
        if (back == null || layout.completed(app, back.version()).isEmpty()) {
            forget(app);
            return backOff(app, p.fingerprint(), attempts, Result.failed(version, rev, failure
                    + "; stopped (no earlier version to go back to); retrying with backoff"));
        }
        CurrentLink.point(layout, app, back.version());
        rt.start(back, config.stopTimeout());
        PendingSwitch r = p.rollback(rt.fingerprint(back), failure, attempts, Instant.now());
        pending.put(app, r);
        return decide(app, rev, version, r, probe.await(FIRST_LOOK), probe, healthTimeout, rt);
    }

    private Result rolledBack(String app, long rev, String version, PendingSwitch p, AppRuntime rt) throws Exception {
        LaunchSpec back = p.started();
        publish(app, back);
        slots.release(app);
        forget(app);
        log.warn("{}: {}; rolled back to {}", app, p.failure(), back.version());
        return backOff(app, p.failedFingerprint(), p.attempts(), Result.failed(version, rev, p.failure()
                + "; rolled back to " + back.version() + ", which serves; retrying " + version + " with backoff")
                .withDetails(details(rt, app, -1)));
    }

    private Result rollbackFailed(String app, long rev, String version, PendingSwitch p, AppRuntime rt)
            throws Exception {
        rt.stop(app, config.stopTimeout());
        forget(app);
        // the slot stays held: this host is unavailable, so no other host may go down for this app meanwhile
        log.warn("{}: {}; rollback to {} failed too", app, p.failure(), p.started().version());
        return backOff(app, p.failedFingerprint(), p.attempts(), Result.failed(version, rev, p.failure()
                + "; rollback to " + p.started().version() + " failed its health check too; nothing serves; retrying"
                + " with backoff"));
    }

    /**
     * Remembers a failed spec so resyncs do not retry it before the crash-loop backoff says so; on disk too, so an
     * agent restart does not defeat it either.
     */
    private Result backOff(String app, String fingerprint, int attempts, Result failed) throws Exception {
        Duration wait = Backoff.RECONCILE.delay(attempts);
        RestartRecord r = book.get(app).switchFailed(fingerprint, Instant.now(), wait, failed.message());
        if (r.failedAttempts() != attempts) {
            // the attempt count is the caller's (a rollback carries it); keep the record in step with it
            r = new RestartRecord(r.livenessRestarts(), r.restartAttempts(), r.lastRestartAt(), r.notBefore(),
                    r.failures(), r.seenRestarts(), fingerprint, attempts, r.failedNotBefore(), r.failedMessage());
        }
        book.put(app, r);
        lastHealth.put(app, "failing");
        if (failed.details() == null || failed.details().isEmpty()) {
            failed = failed.withDetails(details(intents.get(app) != null && intents.get(app).isDocker() ? docker
                    : runit, app, -1));
        }
        failedSwitches.put(app, new FailedSwitch(fingerprint, attempts, System.nanoTime() + wait.toNanos(), failed));
        return failed.requeueAfter(wait);
    }

    /** The backoff of a failed switch as an earlier agent left it on disk, or null when none is in force. */
    private FailedSwitch fromBook(String app, String version, long rev) {
        RestartRecord r = book.get(app);
        Instant now = Instant.now();
        if (r.failedFingerprint() == null || !r.backingOffSwitch(now)) {
            return null;
        }
        Duration left = Duration.between(now, r.failedNotBefore());
        return new FailedSwitch(r.failedFingerprint(), r.failedAttempts(), System.nanoTime() + left.toNanos(),
                Result.failed(version, rev, r.failedMessage() + " (backing off until " + r.failedNotBefore() + ")"));
    }

    private void forget(String app) throws java.io.IOException {
        if (SelfDeploy.isNode(app)) {
            SelfDeploy.disarm(layout.service(app));
        }
        pending.remove(app);
        slotOnLease.remove(app);
    }

    /**
     * Live with the wanted spec: nothing to switch; report health, keep the endpoint right. With {@code health}
     * set, the running instance keeps being probed every {@code health.intervalSeconds}; after
     * {@code health.failureThreshold} failed probes in a row it is restarted in place, with exponential backoff
     * across restarts ({@link RestartRecord}, on disk).
     */
    private Result steady(String app, long rev, String version, LaunchSpec want, AppIntent intent,
                          AppRuntime.Instance now, HealthProbe probe, Duration healthTimeout) throws Exception {
        AppRuntime rt = "docker".equals(want.runtime()) ? docker : runit;
        HealthSpec h = intent.health();
        Duration interval = h == null ? null : Duration.ofSeconds(h.intervalSecondsOrDefault());
        Instant at = Instant.now();
        if (probe.healthy()) {
            healthFailures.remove(app);
            lastHealth.put(app, "passing");
            book.put(app, book.get(app).healthy(at));
            rt.retire(app, want);
            publish(app, want);
            slots.release(app);
            Result ready = Result.ready(version, rev, "live and healthy", details(rt, app, -1));
            return interval == null ? ready : ready.requeueAfter(interval);
        }
        lastHealth.put(app, "failing");
        withdraw(app);
        Duration up = Duration.between(now.since(), at);
        if (up.compareTo(healthTimeout) < 0) {
            // a (re)started instance gets the health timeout to come up before its failures count
            return Result.progressing(version, rev, "running for " + up.toSeconds() + " s; waiting for health ("
                    + probe.describe() + ")", details(rt, app, -1)).requeueAfter(Duration.ofMillis(500));
        }
        if (h == null) {
            return Result.failed(version, rev, "running but failing its health check (" + probe.describe()
                    + "); left to its supervisor, not restarted (set health to have it restarted)")
                    .withDetails(details(rt, app, -1));
        }
        int failed = healthFailures.merge(app, 1, Integer::sum);
        int threshold = h.failureThresholdOrDefault();
        if (failed < threshold) {
            return Result.failed(version, rev, "running but failing its health check (" + probe.describe() + "), "
                    + failed + " of " + threshold + " in a row before a restart")
                    .withDetails(details(rt, app, -1)).requeueAfter(interval);
        }
        RestartRecord rec = book.get(app);
        if (!rec.mayRestart(at)) {
            return Result.failed(version, rev, "running but failing its health check (" + probe.describe() + ") "
                    + failed + " times in a row; next restart backed off until " + rec.notBefore())
                    .withDetails(details(rt, app, -1))
                    .requeueAfter(Duration.between(at, rec.notBefore()).plusMillis(10));
        }
        // on disk before the restart: an agent killed right after it still backs the next one off
        book.put(app, rec.restarted(at, rt.countsOwnRestarts()));
        healthFailures.remove(app);
        rt.restart(app, config.stopTimeout());
        log.warn("{}: failed its health check {} times in a row ({}); restarted it (liveness restart {})", app,
                failed, probe.describe(), rec.livenessRestarts() + 1);
        return Result.progressing(version, rev, "restarted after " + failed + " failed health checks in a row ("
                + probe.describe() + "); liveness restart " + (rec.livenessRestarts() + 1),
                details(rt, app, -1)).requeueAfter(interval);
    }

    /**
     * The instance's state for the status: runtime, pid or container id, start time, restarts, last exit, OOM
     * kill, the last health result, and failures within the reschedule window ({@code sick} past its limit).
     */
    private Map<String, Object> details(AppRuntime rt, String app, long switchMs) throws Exception {
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
        if (f.id() != null) {
            d.put("docker".equals(rt.kind()) ? "containerId" : "pid", "docker".equals(rt.kind()) ? f.id()
                    : (Object) Long.parseLong(f.id()));
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
        String health = lastHealth.get(app);
        if (health != null) {
            d.put("health", health);
        }
        Integer failing = healthFailures.get(app);
        if (failing != null) {
            d.put("healthFailures", failing);
        }
        AppIntent intent = intents.get(app);
        var rs = intent == null ? io.intent.store.model.RescheduleSpec.DEFAULT : intent.rescheduleOrDefault();
        int recent = rec.failuresWithin(Duration.ofSeconds(rs.windowSecondsOrDefault()), at);
        if (recent > 0) {
            d.put("recentFailures", recent);
            d.put("failureWindowSeconds", rs.windowSecondsOrDefault());
        }
        if (recent >= rs.afterFailuresOrDefault()) {
            // the dispatcher reads this to move the instance (viking's /counter)
            d.put("sick", true);
        }
        if (switchMs >= 0) {
            d.put("switchMs", switchMs);
        }
        return d;
    }

    private Result remove(String app) throws Exception {
        // the kit calls with null only when the slice lacks the app; confirm it in etcd before stopping anything
        if (store.get(keys.assignment(host, app), Assignment.class).isPresent()) {
            return Result.waiting(null, 0, "assignment of " + app + " still in etcd; not removing");
        }
        if (SelfDeploy.isNode(app) && runit.inspect(app).filter(SelfDeploy::isThisProcess).isPresent()) {
            return Result.failed(null, 0, "the node does not remove itself: run another node (intent-node.service"
                    + " or --once) before unassigning " + app);
        }
        withdraw(app);
        failedSwitches.remove(app);
        healthFailures.remove(app);
        lastHealth.remove(app);
        probeEvery.remove(app);
        intents.remove(app);
        book.remove(app);
        forget(app);
        runit.remove(app, config.stopTimeout());
        docker.remove(app, config.stopTimeout());
        CurrentLink.remove(layout, app);
        slots.release(app);
        log.info("{}: no longer assigned to {}; stopped and removed", app, host);
        return Result.removed();
    }

    private void publish(String app, LaunchSpec live) {
        long leaseId = lease.id();
        Entry<Endpoint> last = published.get(app);
        if (last != null && last.lease() == leaseId && live.version().equals(last.value().version())
                && live.portsByName().equals(last.value().ports())) {
            return;
        }
        String key = keys.endpoint(app, host);
        Optional<Entry<Endpoint>> there = store.get(key, Endpoint.class);
        Endpoint want = new Endpoint(app, host, address, live.version(), live.portsByName(), Instant.now());
        if (there.isPresent() && there.get().valid() && there.get().lease() == leaseId
                && sameEndpoint(there.get().value(), want)) {
            published.put(app, there.get());
            return;
        }
        store.put(key, want, leaseId);
        published.put(app, new Entry<>(key, want, null, null, 0, 0, leaseId));
    }

    private static boolean sameEndpoint(Endpoint a, Endpoint b) {
        return a.app().equals(b.app()) && a.host().equals(b.host()) && a.address().equals(b.address())
                && a.version().equals(b.version()) && a.ports().equals(b.ports());
    }

    private void withdraw(String app) {
        published.remove(app);
        store.delete(keys.endpoint(app, host));
    }

    /** Revokes the agent's lease (slots and endpoints go with it); apps keep running. */
    public void close() {
        slots.close();
        installs.close();
        if (handingOver) {
            lease.abandon();
        } else {
            lease.close();
        }
        docker.close();
    }

    RunitRuntime runit() {
        return runit;
    }
}
