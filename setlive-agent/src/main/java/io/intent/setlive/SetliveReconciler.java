package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.agent.converge.Reconciler;
import io.intent.agent.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HealthSpec;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * setlive's reconciler: makes the assignment's active version the live one on this host. It checks only the
 * disk for its precondition (a complete install), reads what runs, and lets {@link SwitchPlan} decide: steady
 * ({@link Liveness}), go on waiting for a pending switch's health, back off after a failed switch, wait for a
 * rollout slot, or switch; {@link SwitchExecutor} does the switch (withdraw, stop, swap {@code current}, start,
 * health wait between reconciles, publish or roll back) and {@link Endpoints} keeps the endpoint right.
 */
public final class SetliveReconciler implements Reconciler<Assignment> {
    /**
     * How soon a host waiting for a rollout slot looks again if nothing woke it: only a safety net, the watch of its
     * grants wakes the app as soon as the leader grants the slot.
     */
    static final Duration SLOT_RETRY = Duration.ofSeconds(2);
    /** Reconciles at once: they mostly wait on runsv, health probes and etcd, not on the CPU. */
    static final int WORKERS = 8;
    private static final Logger log = LoggerFactory.getLogger(SetliveReconciler.class);

    private final EtcdStore store;
    private final KeyLayout keys;
    private final InstallLayout layout;
    private final String host;
    private final String address;
    private final SetliveConfig config;
    private final Runtimes runtimes;
    /** The process's one lease: rollout requests and endpoints hang on it. */
    private final io.intent.store.etcd.Session lease;
    private final RolloutSlots slots;
    private final InstallWatch installs;
    /** Per app: restarts, backoff and recent failures, on disk so they survive an agent restart. */
    private final RestartBook book;
    private final Endpoints endpoints;
    private final StatusDetails details;
    private final Liveness liveness;
    private final SwitchExecutor executor;

    /** setlive on {@code host}, running apps with {@code runtimes} ({@link Runtimes#of} in production). */
    SetliveReconciler(EtcdStore store, InstallLayout layout, String host, String address,
                      io.intent.store.etcd.Session session, SetliveConfig config, Runtimes runtimes) {
        this.store = store;
        this.keys = store.keys();
        this.layout = layout;
        this.host = host;
        this.address = address;
        this.config = config;
        this.runtimes = runtimes;
        this.lease = session;
        this.slots = new RolloutSlots(store, host, lease);
        this.book = new RestartBook(runtimes.stateDir());
        this.installs = new InstallWatch(layout);
        this.endpoints = new Endpoints(store, host, address, lease);
        this.details = new StatusDetails(book);
        this.liveness = new Liveness(book, details, endpoints, slots, config.stopTimeout());
        this.executor = new SwitchExecutor(layout, config.stopTimeout(), new PendingSwitches(runtimes.stateDir()),
                book, slots, endpoints, details);
    }

    /** Whether this is a one-shot run ({@code --once}): it hands the health wait of a node it starts to that node. */
    SetliveReconciler oneShot(boolean once) {
        executor.once = once;
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
    public void bind(io.intent.agent.converge.ReconcileContext<Assignment> kit) {
        slots.onGrant(kit::requeue);
        installs.onInstall(kit::requeue);
    }

    @Override
    public Set<String> actualNames() throws Exception {
        Set<String> names = new TreeSet<>(runtimes.process().apps());
        names.addAll(runtimes.docker().apps());
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
        intent = intent.withRuntime(intent.runtime() != null ? intent.runtime() : config.runtimeDefault());
        details.intents.put(app, intent);
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
        AppRuntime rt = runtimes.of(intent.isDocker());
        String image;
        try {
            image = rt.imageId(marker.get());
        } catch (IllegalArgumentException e) {
            return Result.failed(version, rev, e.getMessage());
        }
        LaunchSpec want = LaunchSpec.of(a, host, address, rt.kind(), layout.install(app, version).toString(), image);
        return converge(want, intent, rev, rt, entered);
    }

    /** Reads what runs, lets {@link SwitchPlan} decide, and has the executor (or liveness) do it. */
    private Result converge(LaunchSpec want, AppIntent intent, long rev, AppRuntime rt, long entered)
            throws Exception {
        String app = want.app();
        HealthSpec h = intent.health();
        SwitchExecutor.Job job = new SwitchExecutor.Job(app, rev, want.version(), rt, HealthProbe.of(intent, address),
                Duration.ofSeconds(h == null ? 30 : h.timeoutSecondsOrDefault()),
                h == null ? null : Duration.ofSeconds(h.intervalSecondsOrDefault()));
        AppRuntime other = runtimes.other(intent.isDocker());
        SwitchPlan.Facts f = facts(app, want, rt.fingerprint(want), rt.inspect(app), other.mayHave(app));
        SwitchPlan.Plan plan = SwitchPlan.decide(f);
        if (plan instanceof SwitchPlan.ContinueSwitch c) {
            return executor.continueSwitch(job, c.pending());
        }
        if (plan instanceof SwitchPlan.HandedOver o) {
            return executor.handedOver(job, o.pending());
        }
        if (plan instanceof SwitchPlan.WatchdogRolledBack w) {
            return executor.watchdogRolledBack(job, w.pending());
        }
        f.inFlight().ifPresent(p -> log.info("{}: the pending switch to {} is superseded or not what runs ({}, current"
                + " {}); switching afresh", app, p.started().version(), f.now().map(i -> (i.up() ? "up " : "down ")
                + i.fingerprint()).orElse("nothing"), f.current()));
        if (plan instanceof SwitchPlan.Steady) {
            return liveness.check(job, want, h, f.now().orElseThrow());
        }
        details.healthFailures.remove(app);
        if (plan instanceof SwitchPlan.BackOff b) {
            return executor.backingOff(job, b);
        }
        SwitchPlan.Switch s = (SwitchPlan.Switch) plan;
        // the endpoint goes only once the slot is granted, so an instance waiting for a slot keeps serving
        boolean granted = s.needsSlot() && slots.acquire(app, want.version(),
                List.of(Op.delete(endpoints.key(app))));
        if (s.waitsForSlot(granted, job.probe()::healthy)) {
            // the grant's watch wakes this app when the slot is granted (RolloutSlots); SLOT_RETRY is a safety net
            return Result.waiting(want.version(), rev, "waiting for the leader to grant a rollout slot (maxUnavailable "
                    + intent.maxUnavailableOrDefault() + ")").requeueAfter(SLOT_RETRY);
        }
        return executor.start(job, want, f.wantPrint(), s, granted, f.otherHas(), other, entered);
    }

    /** What {@link SwitchPlan#decide} needs, read from the runtime, {@code current} and the records on disk. */
    private SwitchPlan.Facts facts(String app, LaunchSpec want, String wantPrint, Optional<AppRuntime.Instance> now,
                                   boolean otherHas) {
        Optional<PendingSwitch> inFlight = executor.pending(app);
        // the wanted version is installed (checked above); other versions a rollback could go to are looked up
        Set<String> installed = new HashSet<>(Set.of(want.version()));
        inFlight.map(PendingSwitch::lastHealthy).or(() -> now.map(AppRuntime.Instance::spec))
                .map(LaunchSpec::version).filter(v -> !installed.contains(v) && layout.completed(app, v).isPresent())
                .ifPresent(installed::add);
        return new SwitchPlan.Facts(wantPrint, want.version(), inFlight, now, layout.currentVersion(app).orElse(null),
                otherHas, installed, SelfDeploy.isNode(app), now.filter(SelfDeploy::isThisProcess).isPresent(),
                executor.handingOver, book.get(app), Instant.now());
    }

    private Result remove(String app) throws Exception {
        // the kit calls with null only when the slice lacks the app; confirm it in etcd before stopping anything
        if (store.get(keys.assignment(host, app), Assignment.class).isPresent()) {
            return Result.waiting(null, 0, "assignment of " + app + " still in etcd; not removing");
        }
        if (SelfDeploy.isNode(app) && runtimes.process().inspect(app).filter(SelfDeploy::isThisProcess).isPresent()) {
            return Result.failed(null, 0, "the node does not remove itself: run another node (intent-node.service"
                    + " or --once) before unassigning " + app);
        }
        endpoints.withdraw(app);
        details.forget(app);
        book.remove(app);
        executor.forget(app);
        runtimes.process().remove(app, config.stopTimeout());
        runtimes.docker().remove(app, config.stopTimeout());
        CurrentLink.remove(layout, app);
        slots.release(app);
        log.info("{}: no longer assigned to {}; stopped and removed", app, host);
        return Result.removed();
    }

    /**
     * Stops the agent's watches; apps keep running. The process's session (slots and endpoints hang on it) is revoked
     * by its owner after every agent has stopped, or abandoned here when this node hands over to its successor.
     */
    public void close() {
        slots.close();
        installs.close();
        if (executor.handingOver) {
            lease.abandon(); // a rollout slot on it must outlive this process, for its successor to take over
        }
        runtimes.docker().close();
    }
}
