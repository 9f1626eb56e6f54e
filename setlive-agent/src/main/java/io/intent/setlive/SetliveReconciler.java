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
        this.runit = new RunitRuntime(layout, config.runsvdir());
        this.docker = new DockerRuntime(config.dockerHost(), host, address);
        this.lease = new AgentLease(store, leaseTtl);
        this.slots = new RolloutSlots(store, host, lease);
        this.pending = new PendingSwitches(runit.stateDir());
        this.installs = new InstallWatch(layout);
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
        intent = new AppIntent(intent.versions(), intent.active(), intent.run(), intent.ports(), intent.scale(),
                intent.resources(), intent.constraints(), intent.health(), kind, intent.stateful(),
                intent.maxUnavailable());
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
            return steady(app, rev, version, want, now.get(), probe, healthTimeout);
        }

        // a switch (or a first start, or a restart after a crash)
        FailedSwitch failedBefore = failedSwitches.get(app);
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
        PendingSwitch p = PendingSwitch.begin(wantPrint, want, previous.orElse(null), slot, Instant.now());
        pending.put(app, p);
        slotOnLease.add(app);
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
     * Continues a switch waiting for health when what it started is still what is configured and what the operator
     * wants; returns null when it is superseded or was never started, and the caller switches afresh.
     */
    private Result awaitHealth(String app, long rev, String version, String wantPrint, AppIntent intent,
                               PendingSwitch p, Optional<AppRuntime.Instance> now, boolean otherHas, HealthProbe probe,
                               Duration healthTimeout, AppRuntime rt) throws Exception {
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
        rt.retire(app, p.started());
        publish(app, p.started());
        slots.release(app);
        forget(app);
        String from = p.previous() == null ? null : p.previous().version();
        String how = from == null ? "started " + version : from.equals(version) ? "restarted " + version
                + " with a new spec" : "switched " + from + " -> " + version;
        long ms = Duration.between(p.requestedAt(), Instant.now()).toMillis();
        log.info("{}: {} in {} ms; healthy ({})", app, how, ms, probe.describe());
        return Result.ready(version, rev, how + "; live and healthy", details(rt, app, ms));
    }

    /** The new spec timed out: stop it and put the last healthy spec back (itself waited for, between reconciles). */
    private Result switchFailed(String app, long rev, String version, PendingSwitch p, HealthProbe probe,
                                Duration healthTimeout, AppRuntime rt) throws Exception {
        String failure = version + " did not pass its health check (" + probe.describe() + ") within "
                + healthTimeout.toSeconds() + " s";
        rt.stop(app, config.stopTimeout());
        FailedSwitch before = failedSwitches.get(app);
        int attempts = before != null && before.fingerprint().equals(p.fingerprint()) ? before.attempts() + 1 : 1;
        LaunchSpec back = p.previous();
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

    /** Remembers a failed spec so resyncs do not retry it before the crash-loop backoff says so. */
    private Result backOff(String app, String fingerprint, int attempts, Result failed) {
        Duration wait = Backoff.RECONCILE.delay(attempts);
        failedSwitches.put(app, new FailedSwitch(fingerprint, attempts, System.nanoTime() + wait.toNanos(), failed));
        return failed.requeueAfter(wait);
    }

    private void forget(String app) throws java.io.IOException {
        pending.remove(app);
        slotOnLease.remove(app);
    }

    /** Live with the wanted spec: nothing to restart; report health, keep the endpoint right. */
    private Result steady(String app, long rev, String version, LaunchSpec want, AppRuntime.Instance now,
                          HealthProbe probe, Duration healthTimeout) throws Exception {
        AppRuntime rt = "docker".equals(want.runtime()) ? docker : runit;
        if (probe.healthy()) {
            rt.retire(app, want);
            publish(app, want);
            slots.release(app);
            return Result.ready(version, rev, "live and healthy", details(rt, app, -1));
        }
        withdraw(app);
        Duration up = Duration.between(now.since(), Instant.now());
        if (up.compareTo(healthTimeout) < 0) {
            return Result.progressing(version, rev, "running for " + up.toSeconds() + " s; waiting for health ("
                    + probe.describe() + ")", details(rt, app, -1)).requeueAfter(Duration.ofMillis(500));
        }
        return Result.failed(version, rev, "running but failing its health check (" + probe.describe()
                + "); left to its supervisor, not restarted");
    }

    private Map<String, Object> details(AppRuntime rt, String app, long switchMs) throws Exception {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("runtime", rt.kind());
        rt.inspect(app).ifPresent(i -> d.put("pid", i.pid()));
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
        withdraw(app);
        failedSwitches.remove(app);
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
        lease.close();
        docker.close();
    }

    RunitRuntime runit() {
        return runit;
    }
}
