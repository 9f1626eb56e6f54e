package io.intent.store.etcd;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one lease alive with a keep-alive every TTL/3, and knows a conservative local deadline: the lease
 * is surely alive at the server until (send time of the last acknowledged keep-alive + TTL). When that
 * deadline passes without a new acknowledgement, or etcd says the lease is gone, {@code onLost} runs once.
 * Holders of leadership must stop acting before that deadline, not after.
 */
public final class LeaseKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

    private final EtcdStore store;
    private final long lease;
    private final Duration ttl;
    private final Runnable onLost;
    private final ScheduledExecutorService timer;
    private final AtomicBoolean lost = new AtomicBoolean();
    private volatile long validUntilNanos;

    private LeaseKeeper(EtcdStore store, long lease, Duration ttl, Runnable onLost) {
        this.store = store;
        this.lease = lease;
        this.ttl = ttl;
        this.onLost = onLost;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-" + Long.toHexString(lease));
            t.setDaemon(true);
            return t;
        });
        this.validUntilNanos = System.nanoTime() + ttl.toNanos();
    }

    static LeaseKeeper start(EtcdStore store, long lease, Duration ttl, Runnable onLost) {
        LeaseKeeper k = new LeaseKeeper(store, lease, ttl, onLost);
        long period = Math.max(100, ttl.toMillis() / 3);
        k.timer.scheduleWithFixedDelay(k::beat, period, period, TimeUnit.MILLISECONDS);
        k.timer.scheduleWithFixedDelay(k::checkDeadline, 50, 50, TimeUnit.MILLISECONDS);
        return k;
    }

    public long lease() {
        return lease;
    }

    /** True while the lease is surely alive at the server, by the local conservative deadline. */
    public boolean valid() {
        return !lost.get() && System.nanoTime() < validUntilNanos;
    }

    private void beat() {
        if (lost.get()) {
            return;
        }
        long sent = System.nanoTime();
        try {
            var resp = store.client().getLeaseClient().keepAliveOnce(lease)
                    .get(Math.max(100, ttl.toMillis() / 3), TimeUnit.MILLISECONDS);
            if (resp.getTTL() <= 0) {
                lose("etcd says the lease is gone");
                return;
            }
            validUntilNanos = Math.max(validUntilNanos, sent + TimeUnit.SECONDS.toNanos(resp.getTTL()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (Failures.isNotFound(e)) {
                lose("etcd says the lease is gone");
            } else {
                log.debug("keep-alive of lease {} failed: {}", Long.toHexString(lease), Failures.describe(e));
            }
        }
    }

    private void checkDeadline() {
        if (!lost.get() && System.nanoTime() >= validUntilNanos) {
            lose("no keep-alive acknowledged within the TTL");
        }
    }

    private void lose(String why) {
        if (lost.compareAndSet(false, true)) {
            log.warn("lease {} lost: {}", Long.toHexString(lease), why);
            timer.shutdown();
            try {
                onLost.run();
            } catch (RuntimeException e) {
                log.error("lease-lost handler failed", e);
            }
        }
    }

    /** Stops the keep-alives without revoking; the lease then expires after its TTL. */
    @Override
    public void close() {
        lost.set(true);
        timer.shutdownNow();
    }
}
