package io.intent.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.GetOption;
import io.intent.api.status.ObservedBuilder;
import io.intent.api.status.ObservedReader;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's read cache, like kube-apiserver's watch cache: one {@link SliceWatch} over the whole key root (so the
 * cache is at one etcd revision, never a mix) folds apps, hosts, liveness, placements, assignments and statuses
 * into an immutable {@link View} per revision. Reads are answered from it without a round trip to etcd.
 *
 * <p>Guarantees: a read waits (boundedly) until the cache has reached the revision of every write this API made,
 * so a client reads its own writes; beyond that a read is at most the watch delay behind etcd. While etcd does not
 * answer the liveness probe, or before the first list, {@link #fresh} answers nothing and callers read etcd (and
 * fail with 503 while it is down): a cache never serves an outage as if it were current. Other keys under the
 * root (leader keys, tokens, idempotency records) pass through the watch but are never served from here.
 */
final class ReadCache implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReadCache.class);
    /** How long a read waits for the cache to catch up with this API's last write before reading etcd. */
    static final Duration CATCH_UP = Duration.ofSeconds(2);
    /** How long a snapshot a paged read started on stays available after its last page was read. */
    static final Duration PIN = Duration.ofSeconds(30);
    /**
     * At most this many pinned snapshots: each holds its computed status (tens of MB at 10,000 instances); the
     * least recently read goes first, and a list that loses its snapshot reads it back from etcd.
     */
    private static final int MAX_PINS = 16;

    /** A snapshot kept for the next pages of a list, and when a page of it was last read. */
    private static final class Pin {
        final View view;
        volatile long usedNanos = System.nanoTime();

        Pin(View view) {
            this.view = view;
        }
    }

    private final EtcdStore store;
    private final ObservedReader reader;
    private final ObservedBuilder builder;
    private final AtomicLong written = new AtomicLong();
    private final Map<Long, Pin> pins = new ConcurrentHashMap<>();
    private final ScheduledExecutorService probe = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "api-cache-probe");
        t.setDaemon(true);
        return t;
    });
    private final Object caughtUp = new Object();
    private volatile View view;
    private volatile boolean etcdAnswers = true;
    private volatile long etcdRevision;
    private volatile SliceWatch<JsonNode> watch;

    ReadCache(EtcdStore store) {
        this.store = store;
        this.reader = new ObservedReader(store);
        this.builder = new ObservedBuilder(store.keys());
    }

    /** Starts the watch and the etcd liveness probe; does not wait for the first list. */
    void start() {
        watch = store.watchSlice(store.keys().root() + "/", JsonNode.class, this::onChanges);
        probe.scheduleWithFixedDelay(this::probe, 0, 1, TimeUnit.SECONDS);
    }

    /** Waits until the first list has been folded in. */
    boolean awaitReady(Duration timeout) throws InterruptedException {
        return watch.awaitReady(timeout);
    }

    boolean ready() {
        return view != null;
    }

    /** The revision the cache is at, or -1 before the first list. */
    long revision() {
        View v = view;
        return v == null ? -1 : v.revision();
    }

    /** The revision etcd answered the last probe with (0 before the first). */
    long etcdRevision() {
        return etcdRevision;
    }

    /** The revision of the last write through this API: no read may answer from an older snapshot. */
    long written() {
        return written.get();
    }

    /** Records that this API wrote at {@code revision}: later reads wait for the cache to reach it. */
    void wrote(long revision) {
        written.accumulateAndGet(revision, Math::max);
    }

    /** The routing-context key of a snapshot taken on the event loop for the request to read. */
    static final String VIEW = "intent.view";

    /** What {@link #fresh} would answer without waiting, or null when it would wait or read etcd. */
    View now() {
        View v = view;
        return v != null && etcdAnswers && v.revision() >= written.get() ? v : null;
    }

    /**
     * The current snapshot when it can be served: loaded, etcd answering, and at or past every write this API
     * made (waiting up to {@link #CATCH_UP} for the watch to deliver it). Empty means "read etcd instead".
     */
    Optional<View> fresh() throws InterruptedException {
        View v = view;
        if (v == null || !etcdAnswers) {
            return Optional.empty();
        }
        long need = written.get();
        if (v.revision() >= need) {
            return Optional.of(v);
        }
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        synchronized (caughtUp) {
            while ((v = view).revision() < need) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    log.warn("read cache at revision {} has not caught up with write {} in {} ms: reading etcd",
                            v.revision(), need, CATCH_UP.toMillis());
                    return Optional.empty();
                }
                TimeUnit.NANOSECONDS.timedWait(caughtUp, left);
            }
        }
        return Optional.of(v);
    }

    /**
     * The snapshot a read of {@code c} is answered from: etcd when it asks {@code ?consistent=true} (or the cache
     * cannot serve), else the cache.
     */
    View forRead(Call c) throws InterruptedException {
        View taken = c.ctx().get(VIEW);
        if (taken != null) {
            return taken;
        }
        if (consistent(c)) {
            return consistent();
        }
        return fresh().orElseGet(this::consistent);
    }

    /** Whether the request asks to read etcd: {@code ?consistent=true}. */
    static boolean consistent(Call c) {
        String q = c.query("consistent");
        if (q == null || q.equals("false")) {
            return false;
        }
        if (q.equals("true") || q.isEmpty()) {
            return true;
        }
        throw ApiError.badRequest("consistent must be true or false, not '" + q + "'");
    }

    /** A 200 with {@code body}, saying which revision it reflects and where it was read. */
    static Reply reply(View v, Object body) {
        return new Reply(200, body, Map.of("X-Intent-Revision", Long.toString(v.revision()),
                "X-Intent-Source", v.source().name().toLowerCase()));
    }

    /** Like {@link #reply(View, Object)} for one resource, with its ETag. */
    static Reply reply(View v, Object body, long etag) {
        return new Reply(200, body, Map.of("X-Intent-Revision", Long.toString(v.revision()),
                "X-Intent-Source", v.source().name().toLowerCase(), "ETag", Etags.format(etag)));
    }

    /** A snapshot read straight from etcd, at its latest revision. */
    View consistent() {
        return new View(reader.read(), View.Source.ETCD);
    }

    /**
     * The snapshot at {@code revision} a paged read started on: the pinned one, else read from etcd at that
     * revision (which fails as non-transient when etcd has compacted it).
     */
    View at(long revision) {
        Pin p = pins.get(revision);
        if (p != null) {
            p.usedNanos = System.nanoTime();
            return p.view;
        }
        View v = new View(reader.read(revision), View.Source.ETCD);
        pin(v);
        return v;
    }

    /** Keeps {@code v} for the next pages of a paged read while they keep coming (see {@link #PIN}). */
    void pin(View v) {
        Pin had = pins.get(v.revision());
        if (had != null && had.view == v) {
            had.usedNanos = System.nanoTime();
            return;
        }
        long stale = System.nanoTime() - PIN.toNanos();
        pins.values().removeIf(p -> p.usedNanos < stale);
        while (pins.size() >= MAX_PINS) {
            pins.entrySet().stream().min(java.util.Comparator.comparingLong(e -> e.getValue().usedNanos))
                    .ifPresent(e -> pins.remove(e.getKey()));
        }
        pins.put(v.revision(), new Pin(v));
    }

    /** Runs on the watch's thread, one batch at a time. */
    private void onChanges(java.util.List<SliceWatch.Change<JsonNode>> changes, long revision, boolean relisted) {
        for (var c : changes) {
            if (c.kind() == SliceWatch.Kind.PUT) {
                builder.put(c.entry());
            } else {
                builder.delete(c.key());
            }
        }
        View v = view;
        if (v == null || revision > v.revision() || !changes.isEmpty()) {
            view = new View(builder.build(revision), View.Source.CACHE);
            synchronized (caughtUp) {
                caughtUp.notifyAll();
            }
        }
    }

    /** A cheap count-only read with a short timeout: is etcd answering right now? */
    private void probe() {
        String root = store.keys().root() + "/";
        try {
            var resp = store.client().getKVClient().get(ByteSequence.from(root, StandardCharsets.UTF_8),
                    GetOption.builder().withCountOnly(true).build())
                    .get(Math.min(2000, store.callTimeout().toMillis()), TimeUnit.MILLISECONDS);
            etcdRevision = resp.getHeader().getRevision();
            if (!etcdAnswers) {
                log.info("etcd answers again at revision {}: reads are served from the cache (at {})",
                        etcdRevision, revision());
            }
            etcdAnswers = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (etcdAnswers) {
                log.warn("etcd does not answer ({}): reads go to etcd (503 while it is down) until it does",
                        e.toString());
            }
            etcdAnswers = false;
        }
    }

    @Override
    public void close() {
        probe.shutdownNow();
        if (watch != null) {
            watch.close();
        }
    }
}
