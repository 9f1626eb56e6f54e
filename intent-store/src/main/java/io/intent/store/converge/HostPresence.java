package io.intent.store.converge;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.LeaseKeeper;
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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a host visible: publishes its {@link HostSpec} at {@code /intent/registration/<host>}, a key of its own
 * (the leader copies it to {@code /intent/hosts/<host>} only while that is absent, so operators' edits are never
 * overwritten and a host cannot change its labels, capacity or drain after that), and keeps
 * {@code /intent/live/<host>} on a lease. Several agents of one host may each
 * run one: whoever finds the liveness key missing puts it back on its own lease, so the key lives as long as
 * any agent of the host does. When etcd is unreachable it keeps retrying; it never gives up.
 */
public final class HostPresence implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostPresence.class);
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);

    private final EtcdStore store;
    private final KeyLayout keys;
    private final String host;
    private final String address;
    private final String agent;
    private final Duration ttl;
    private final ScheduledExecutorService timer;
    private final Instant since = Instant.now();
    private volatile LeaseKeeper keeper;
    private int failures;

    private HostPresence(EtcdStore store, String host, String address, String agent, Duration ttl) {
        this.store = store;
        this.keys = store.keys();
        this.host = host;
        this.address = address;
        this.agent = agent;
        this.ttl = ttl;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "presence-" + host);
            t.setDaemon(true);
            return t;
        });
    }

    /** Publishes the host's registration and starts keeping liveness; returns at once, retrying in background. */
    public static HostPresence start(EtcdStore store, String host, HostSpec defaults, String agent, Duration ttl) {
        HostPresence p = new HostPresence(store, host, defaults.address(), agent, ttl);
        p.timer.execute(() -> p.register(defaults));
        return p;
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
            LeaseKeeper k = keeper;
            if (k == null || !k.valid()) {
                if (k != null) {
                    k.close();
                }
                long lease = store.grantLease(ttl);
                // the regular tick notices a lost lease within TTL/3 and takes a new one
                keeper = store.keepAlive(lease, ttl, () -> { });
            }
            if (store.get(keys.live(host), Liveness.class).isEmpty()) {
                store.put(keys.live(host), new Liveness(host, address, agent, ProcessHandle.current().pid(), since),
                        keeper.lease());
            }
            failures = 0;
            timer.schedule(this::tick, Math.max(200, ttl.toMillis() / 3), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            retry("keeping liveness of " + host, this::tick, e);
        }
    }

    private void retry(String what, Runnable action, RuntimeException e) {
        failures++;
        Duration d = Backoff.STORE.delay(failures);
        log.warn("{} failed ({}); retrying in {} ms", what, Failures.describe(e), d.toMillis());
        if (!timer.isShutdown()) {
            timer.schedule(action, d.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Stops keeping liveness and revokes the lease, so the host reads as gone at once. */
    @Override
    public void close() {
        timer.shutdownNow();
        LeaseKeeper k = keeper;
        if (k != null) {
            k.close();
            try {
                store.revokeLease(k.lease());
            } catch (RuntimeException e) {
                log.debug("revoke on close failed: {}", Failures.describe(e));
            }
        }
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
