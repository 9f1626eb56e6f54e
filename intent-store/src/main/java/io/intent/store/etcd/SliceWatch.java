package io.intent.store.etcd;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every key under a prefix: lists at revision R, then watches from R+1, and never loses a change.
 *
 * <p>The listener first receives the whole slice as puts, then each change, always in revision order and
 * never concurrently. When the watch cannot resume (history compacted while disconnected) the slice is
 * listed again and the listener receives the difference against what it was last told, deletions included.
 * When the stream breaks (etcd restart, member loss) the watch resumes from the last revision seen, with
 * backoff, and relists if that revision is gone. {@link #resync()} forces a relist (the periodic safety net).
 */
public final class SliceWatch<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SliceWatch.class);

    /** What happened to one key. */
    public enum Kind { PUT, DELETE }

    /**
     * One change to the slice.
     *
     * @param entry the new entry for a PUT, the last known entry for a DELETE
     */
    public record Change<T>(Kind kind, String key, Entry<T> entry) {
    }

    /** Receives changes; called on the watch's own thread, one batch at a time. */
    @FunctionalInterface
    public interface Listener<T> {
        /**
         * @param changes  what changed since the last call (all keys, as puts, on the first call)
         * @param revision the store revision the listener is now in sync with
         * @param relisted true when this batch came from a full relist rather than the watch stream
         */
        void onChanges(List<Change<T>> changes, long revision, boolean relisted);
    }

    private final EtcdStore store;
    private final String prefix;
    private final Class<T> type;
    private final Listener<T> listener;
    /** Shared by every watch in the process; each watch serialises its own work on top. */
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> daemon(r, "slice-watch"));
    private static final ScheduledExecutorService TIMER =
            Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "slice-watch-timer"));

    private final SerialExecutor serial;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Map<String, Entry<T>> cache = new HashMap<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile long revision;
    private volatile boolean closed;
    private Watch.Watcher watcher;
    private int generation;
    private int failures;
    private long relists;

    private SliceWatch(EtcdStore store, String prefix, Class<T> type, Listener<T> listener) {
        this.store = store;
        this.prefix = prefix;
        this.type = type;
        this.listener = listener;
        this.serial = new SerialExecutor(POOL);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    static <T> SliceWatch<T> start(EtcdStore store, String prefix, Class<T> type, Listener<T> listener) {
        SliceWatch<T> w = new SliceWatch<>(store, prefix, type, listener);
        w.submit(w::relist);
        return w;
    }

    /** Waits until the first snapshot has been delivered. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The revision the listener was last brought up to. */
    public long revision() {
        return revision;
    }

    /** How many full relists happened (the first list included); for tests and metrics. */
    public long relists() {
        return relists;
    }

    /** Lists the slice again and delivers the difference; also restarts the watch. */
    public void resync() {
        submit(this::relist);
    }

    private void submit(Runnable r) {
        if (closed) {
            return;
        }
        serial.execute(() -> {
            if (!closed) {
                r.run();
            }
        });
    }

    /** Runs on the serial thread. */
    private void relist() {
        Snapshot<T> snap;
        try {
            // in pages at one revision: a large slice (thousands of apps) would exceed etcd's 4 MiB reply limit
            snap = store.listPaged(prefix, type, 500);
        } catch (RuntimeException e) {
            retryLater("list failed: " + Failures.describe(e), this::relist);
            return;
        }
        relists++;
        List<Change<T>> changes = new ArrayList<>();
        Map<String, Entry<T>> seen = snap.byKey();
        for (var old : new ArrayList<>(cache.values())) {
            if (!seen.containsKey(old.key())) {
                changes.add(new Change<>(Kind.DELETE, old.key(), old));
                cache.remove(old.key());
            }
        }
        for (var e : snap.entries()) {
            Entry<T> old = cache.get(e.key());
            if (old == null || old.modRevision() != e.modRevision()) {
                changes.add(new Change<>(Kind.PUT, e.key(), e));
                cache.put(e.key(), e);
            }
        }
        revision = snap.revision();
        failures = 0;
        deliver(changes, true);
        ready.countDown();
        startWatch(snap.revision() + 1);
    }

    /** Runs on the serial thread. */
    private void startWatch(long fromRevision) {
        if (watcher != null) {
            watcher.close();
        }
        int gen = ++generation;
        WatchOption opt = WatchOption.builder()
                .isPrefix(true)
                .withRevision(fromRevision)
                .withRequireLeader(true)
                .withProgressNotify(true)
                .build();
        try {
            watcher = store.client().getWatchClient().watch(EtcdStore.bytes(prefix), opt, Watch.listener(
                    resp -> submit(() -> onResponse(gen, resp)),
                    err -> submit(() -> onError(gen, err)),
                    () -> submit(() -> onCompleted(gen))));
        } catch (RuntimeException e) {
            retryLater("watch failed to start: " + Failures.describe(e), () -> resume(gen));
        }
    }

    private void onResponse(int gen, WatchResponse resp) {
        if (gen != generation) {
            return;
        }
        failures = 0;
        List<Change<T>> changes = new ArrayList<>();
        long maxRev = revision;
        for (WatchEvent ev : resp.getEvents()) {
            KeyValue kv = ev.getKeyValue();
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            maxRev = Math.max(maxRev, kv.getModRevision());
            if (ev.getEventType() == WatchEvent.EventType.PUT) {
                Entry<T> e = store.decode(kv, type);
                cache.put(key, e);
                changes.add(new Change<>(Kind.PUT, key, e));
            } else if (ev.getEventType() == WatchEvent.EventType.DELETE) {
                Entry<T> old = cache.remove(key);
                if (old != null) {
                    changes.add(new Change<>(Kind.DELETE, key, old));
                }
            }
        }
        if (resp.getEvents().isEmpty() && resp.getHeader() != null) {
            // progress notification: everything up to the header revision has been delivered
            maxRev = Math.max(maxRev, resp.getHeader().getRevision());
        }
        revision = maxRev;
        if (!changes.isEmpty()) {
            deliver(changes, false);
        }
    }

    private void onError(int gen, Throwable err) {
        if (gen != generation) {
            return;
        }
        if (Failures.isCompacted(err)) {
            log.info("watch on {} fell behind a compaction at revision {}: relisting", prefix, revision);
            relist();
            return;
        }
        retryLater("watch broke: " + Failures.describe(err), () -> resume(gen));
    }

    private void onCompleted(int gen) {
        if (gen != generation) {
            return;
        }
        retryLater("watch stream closed", () -> resume(gen));
    }

    private void resume(int gen) {
        if (gen == generation) {
            startWatch(revision + 1);
        }
    }

    private void retryLater(String why, Runnable action) {
        failures++;
        Duration d = Backoff.STORE.delay(failures);
        log.warn("{} on {}; retrying in {} ms", why, prefix, d.toMillis());
        TIMER.schedule(() -> submit(action), d.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void deliver(List<Change<T>> changes, boolean relisted) {
        try {
            listener.onChanges(changes, revision, relisted);
        } catch (RuntimeException e) {
            log.error("slice listener for {} failed; the next resync will redeliver", prefix, e);
        }
    }

    @Override
    public void close() {
        closed = true;
        // queued behind any delivery in progress, so no listener call happens after close returns
        serial.execute(() -> {
            if (watcher != null) {
                watcher.close();
            }
            stopped.countDown();
        });
        try {
            stopped.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
