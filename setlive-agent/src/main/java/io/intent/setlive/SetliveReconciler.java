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
 * stops, swaps {@code current}, starts, waits for health, publishes the endpoint and gives the slot back.
 * When the new version fails its health check, the previous one is put back and started, so the host keeps
 * serving; the status says so, and the kit retries the switch with crash-loop backoff.
 */
public final class SetliveReconciler implements Reconciler<Assignment> {
    /** How soon a host waiting for a rollout slot tries again. */
    static final java.time.Duration SLOT_RETRY = java.time.Duration.ofMillis(250);
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
    /** A switch that failed its health check: not retried before {@code notBefore} (crash-loop backoff). */
    private record FailedSwitch(String fingerprint, int attempts, long notBeforeNanos, Result result) {
    }

    private final Map<String, FailedSwitch> failedSwitches = new ConcurrentHashMap<>();
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
    }

    @Override
    public String agent() {
        return "setlive";
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
            return Result.waiting(version, rev, "waiting for install of " + app + " " + version + " at "
                    + layout.install(app, version));
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
            // a slot frees within a switch (~0.2 s): look again soon, not at the kit's 2 s waiting pace
            return Result.waiting(version, rev, "waiting for the leader to grant a rollout slot (maxUnavailable "
                    + intent.maxUnavailableOrDefault() + ")")
                    .requeueAfter(SLOT_RETRY);
        }
        Optional<LaunchSpec> previous = now.filter(i -> i.spec() != null && !sameSpec)
                .map(AppRuntime.Instance::spec)
                .filter(p -> layout.completed(app, p.version()).isPresent());
        String from = previous.map(LaunchSpec::version).orElse(null);
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
        if (probe.await(healthTimeout)) {
            long tHealthy = System.nanoTime();
            failedSwitches.remove(app);
            rt.retire(app, want);
            publish(app, want);
            slots.release(app);
            String how = from == null ? "started " + version : from.equals(version) ? "restarted " + version
                    + " with a new spec" : "switched " + from + " -> " + version;
            long ms = (tHealthy - t0) / 1_000_000;
            log.info("{}: {} in {} ms (checks {} ms, stop {} ms, swap+start {} ms, health {} ms); healthy ({})", app, how,
                    ms, (t0 - entered) / 1_000_000,
                    (tStopped - t0) / 1_000_000, (tStarted - tStopped) / 1_000_000, (tHealthy - tStarted) / 1_000_000,
                    probe.describe());
            return Result.ready(version, rev, how + "; live and healthy", details(rt, app, ms));
        }
        String failure = version + " did not pass its health check (" + probe.describe() + ") within "
                + healthTimeout.toSeconds() + " s";
        rt.stop(app, config.stopTimeout());
        Result failed = rollback(app, rev, version, previous, probe, healthTimeout, rt, failure);
        int attempts = failedBefore == null ? 1 : failedBefore.attempts() + 1;
        Duration wait = Backoff.RECONCILE.delay(attempts);
        failedSwitches.put(app, new FailedSwitch(wantPrint, attempts, System.nanoTime() + wait.toNanos(), failed));
        return failed.requeueAfter(wait);
    }

    /** After a failed switch: puts the previous version back so the host keeps serving, when there is one. */
    private Result rollback(String app, long rev, String version, Optional<LaunchSpec> previous, HealthProbe probe,
                            Duration healthTimeout, AppRuntime rt, String failure) throws Exception {
        if (previous.isEmpty()) {
            return Result.failed(version, rev, failure + "; stopped (no earlier version to go back to); retrying"
                    + " with backoff");
        }
        LaunchSpec back = previous.get();
        CurrentLink.point(layout, app, back.version());
        rt.start(back, config.stopTimeout());
        if (probe.await(healthTimeout)) {
            publish(app, back);
            slots.release(app);
            log.warn("{}: {}; rolled back to {}", app, failure, back.version());
            return Result.failed(version, rev, failure + "; rolled back to " + back.version()
                    + ", which serves; retrying " + version + " with backoff").withDetails(details(rt, app, -1));
        }
        rt.stop(app, config.stopTimeout());
        log.warn("{}: {}; rollback to {} failed too", app, failure, back.version());
        return Result.failed(version, rev, failure + "; rollback to " + back.version()
                + " failed its health check too; nothing serves; retrying with backoff");
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
        lease.close();
        docker.close();
    }

    RunitRuntime runit() {
        return runit;
    }
}
