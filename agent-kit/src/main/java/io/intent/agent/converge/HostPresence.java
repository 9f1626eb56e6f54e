package io.intent.agent.converge;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.Session;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Resources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a host visible: publishes its {@link HostSpec} at {@code /intent/registration/<host>}, a key of its own
 * (the leader copies it to {@code /intent/hosts/<host>} only while that is absent, so operators' edits are never
 * overwritten and a host cannot change its labels, capacity or drain after that), and keeps
 * {@code /intent/live/<host>} on the process's {@link Session} lease. Several agent processes of one host may
 * each run one: whoever finds the liveness key missing puts it back on its own lease, so the key lives as long as
 * any agent of the host does. When the session loses its lease, the key is checked (and put back on the new
 * lease) at once, not on the next tick. When etcd is unreachable it keeps retrying; it never gives up.
 */
public final class HostPresence implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostPresence.class);

    private final EtcdStore store;
    private final Session session;
    private final KeyLayout keys;
    private final String host;
    private final String address;
    private final String agent;
    private final ScheduledExecutorService timer;
    private final Instant since = Instant.now();
    private int failures;
    /** The next scheduled step (a tick or a retry) and what it runs; touched on the timer thread only. */
    private ScheduledFuture<?> next;
    private Runnable nextStep;

    private HostPresence(Session session, String host, String address, String agent) {
        this.session = session;
        this.store = session.store();
        this.keys = store.keys();
        this.host = host;
        this.address = address;
        this.agent = agent;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "presence-" + host);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Publishes the host's registration and keeps liveness on {@code session}'s lease; returns at once, retrying in
     * background. Closing it stops that; the session's owner revokes the lease.
     */
    public static HostPresence start(Session session, String host, HostSpec defaults, String agent) {
        HostPresence p = new HostPresence(session, host, defaults.address(), agent);
        p.timer.execute(() -> p.register(defaults));
        session.onLoss((lease, why) -> {
            if (!session.ended()) {
                p.stepNow(); // a lease lost, not the session ended (closed, or abandoned by a node handing over)
            }
        });
        return p;
    }

    /** Runs the pending step at once (the lease was lost: liveness needs the new one now), keeping one chain. */
    private void stepNow() {
        try {
            timer.execute(() -> {
                if (next != null && next.cancel(false)) {
                    nextStep.run();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    private void later(Runnable step, long delayMs) {
        if (!timer.isShutdown()) {
            nextStep = step;
            next = timer.schedule(step, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    private void register(HostSpec defaults) {
        try {
            var there = store.get(keys.registration(host), HostSpec.class);
            if (there.isEmpty() || !there.get().valid() || !defaults.equals(there.get().value())) {
                store.put(keys.registration(host), defaults);
                log.info("registered host {} with {}", host, Json.writeString(defaults));
            }
            failures = 0;
            tick();
        } catch (RuntimeException e) {
            retry("registering host " + host, () -> register(defaults), e);
        }
    }

    private void tick() {
        try {
            long lease = session.lease();
            var there = store.get(keys.live(host), Liveness.class);
            // absent, or still on a lost lease (etcd expires it a little after our deadline) or on a predecessor's
            if (there.isEmpty() || there.get().lease() != lease) {
                store.put(keys.live(host), new Liveness(host, address, agent, ProcessHandle.current().pid(), since),
                        lease);
            }
            failures = 0;
            later(this::tick, Math.max(200, session.ttl().toMillis() / 3));
        } catch (RuntimeException e) {
            retry("keeping liveness of " + host, this::tick, e);
        }
    }

    private void retry(String what, Runnable action, RuntimeException e) {
        failures++;
        Duration d = Backoff.STORE.delay(failures);
        log.warn("{} failed ({}); retrying in {} ms", what, Failures.describe(e), d.toMillis());
        later(action, d.toMillis());
    }

    /** Stops keeping liveness; the key goes when the session's owner revokes the lease (or after its TTL). */
    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** A host spec from what this machine has: its core count and memory, and the given address and labels. */
    public static HostSpec detect(String address, Map<String, String> labels) {
        double cpu = Runtime.getRuntime().availableProcessors();
        long memMb = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memMb = Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (Exception e) {
            memMb = Runtime.getRuntime().maxMemory() / (1024 * 1024);
        }
        return new HostSpec(labels, new Resources(cpu, memMb), address, false);
    }
}
