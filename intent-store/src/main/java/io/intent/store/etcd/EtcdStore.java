package io.intent.store.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.intent.store.KeyLayout;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Typed, bounded access to etcd over one shared jetcd client: get/list/put/delete, compare-and-set,
 * fenced multi-operation transactions, leases and slice watches.
 *
 * <p>Every call has a timeout (jetcd does not fail fast) and transient failures (UNAVAILABLE, timeouts,
 * no leader) are retried with backoff for up to {@link #retryBudget()}; then a transient
 * {@link StoreException} says etcd is unreachable. Calls block: use them from worker threads, never an event
 * loop. A compare-and-set retried after an unknown outcome may report a conflict for its own write: re-read.
 * A call etcd refuses for lack of permission throws {@link PermissionDeniedException} at once, naming the
 * etcd user and the call with its key.
 *
 * <p>Over 300 lines, on purpose: it is the one typed face of jetcd's KV, lease and transaction calls, each a few
 * lines that go through the one {@link #call} (timeout, retry budget, metrics, permission errors); the recipes
 * built on it already live apart ({@link SliceWatch}, {@link Elections}, {@link Session}, {@link LeaseKeeper}).
 */
public final class EtcdStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EtcdStore.class);

    private final Client client;
    private final KeyLayout keys;
    private final Duration callTimeout;
    private final Duration retryBudget;
    private final String user;
    private volatile io.micrometer.core.instrument.MeterRegistry metrics;
    /** Buckets of an etcd call: a healthy cluster answers in milliseconds, a struggling one in seconds. */
    public static final Duration[] ETCD_BUCKETS = java.util.stream.DoubleStream.of(0.001, 0.0025, 0.005, 0.01,
            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .mapToObj(s -> Duration.ofNanos((long) (s * 1e9))).toArray(Duration[]::new);

    private EtcdStore(Client client, KeyLayout keys, Duration callTimeout, Duration retryBudget, String user) {
        this.client = client;
        this.user = user;
        this.keys = keys;
        this.callTimeout = callTimeout;
        this.retryBudget = retryBudget;
    }

    /** Builds the client; no network traffic happens until the first call. */
    public static EtcdStore connect(EtcdConfig cfg) {
        ClientBuilder b = Client.builder()
                .endpoints(cfg.endpoints().toArray(String[]::new))
                .connectTimeout(cfg.callTimeout())
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(5))
                // etcd refuses pings on a connection with no stream (GOAWAY too_many_pings); watches keep one open
                .keepaliveWithoutCalls(false)
                .retryDelay(50)
                .retryMaxDelay(500)
                .retryMaxDuration(cfg.callTimeout().compareTo(Duration.ofSeconds(1)) > 0
                        ? cfg.callTimeout() : Duration.ofSeconds(1));
        if (cfg.user() != null) {
            b.user(bytes(cfg.user())).password(bytes(cfg.password()));
        }
        if (cfg.caFile() != null || cfg.certFile() != null) {
            try {
                b.sslContext(ssl -> {
                    if (cfg.caFile() != null) {
                        ssl.trustManager(cfg.caFile().toFile());
                    }
                    if (cfg.certFile() != null) {
                        ssl.keyManager(cfg.certFile().toFile(), cfg.keyFile().toFile());
                    }
                });
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalArgumentException("etcd TLS configuration: " + e.getMessage(), e);
            }
        }
        Duration budget = cfg.callTimeout().multipliedBy(3);
        return new EtcdStore(b.build(), new KeyLayout(cfg.root()), cfg.callTimeout(), budget, cfg.user());
    }

    /**
     * Times every call from now on in {@code registry}: {@code intent_etcd_request_seconds} by operation (get,
     * list, count, put, delete, write, grant, revoke, compact) and outcome (ok, error), retries included.
     */
    public EtcdStore withMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        this.metrics = registry;
        return this;
    }

    public KeyLayout keys() {
        return keys;
    }

    /** The raw jetcd client, for the election API and other recipes this class does not wrap. */
    public Client client() {
        return client;
    }

    public Duration callTimeout() {
        return callTimeout;
    }

    /** How long a call keeps retrying transient failures before giving up. */
    public Duration retryBudget() {
        return retryBudget;
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /** Reads one key. */
    public <T> Optional<Entry<T>> get(String key, Class<T> type) {
        var resp = call("get " + key, () -> client.getKVClient().get(bytes(key)));
        return resp.getKvs().stream().findFirst().map(kv -> decode(kv, type));
    }

    /** Reads every key under {@code prefix} at one revision; invalid values come back as invalid entries. */
    public <T> Snapshot<T> list(String prefix, Class<T> type) {
        return list(prefix, type, 0);
    }

    /** Like {@link #list(String, Class)} but at {@code revision} (0 = latest). */
    public <T> Snapshot<T> list(String prefix, Class<T> type, long revision) {
        GetOption.Builder opt = GetOption.builder().isPrefix(true);
        if (revision > 0) {
            opt.withRevision(revision);
        }
        var resp = call("list " + prefix, () -> client.getKVClient().get(bytes(prefix), opt.build()));
        List<Entry<T>> entries = new ArrayList<>(resp.getKvs().size());
        for (KeyValue kv : resp.getKvs()) {
            entries.add(decode(kv, type));
        }
        return new Snapshot<>(resp.getHeader().getRevision(), entries);
    }

    /**
     * Like {@link #list(String, Class)} for prefixes too large for one response (gRPC's 4 MiB message limit:
     * 10,000 assignments are several MiB): reads {@code pageSize} keys at a time, every page at the revision
     * of the first, so the result is still one consistent snapshot.
     */
    public <T> Snapshot<T> listPaged(String prefix, Class<T> type, int pageSize) {
        ByteSequence end = ByteSequence.from(prefixEnd(prefix.getBytes(StandardCharsets.UTF_8)));
        List<Entry<T>> entries = new ArrayList<>();
        long revision = 0;
        ByteSequence from = bytes(prefix);
        while (true) {
            GetOption.Builder opt = GetOption.builder().withRange(end).withLimit(pageSize);
            if (revision > 0) {
                opt.withRevision(revision);
            }
            ByteSequence start = from;
            var resp = call("list " + prefix + " (page)", () -> client.getKVClient().get(start, opt.build()));
            if (revision == 0) {
                revision = resp.getHeader().getRevision();
            }
            for (KeyValue kv : resp.getKvs()) {
                entries.add(decode(kv, type));
            }
            if (!resp.isMore() || resp.getKvs().isEmpty()) {
                return new Snapshot<>(revision, entries);
            }
            byte[] last = resp.getKvs().get(resp.getKvs().size() - 1).getKey().getBytes();
            from = ByteSequence.from(java.util.Arrays.copyOf(last, last.length + 1));
        }
    }

    /** The smallest key greater than every key starting with {@code prefix}. */
    private static byte[] prefixEnd(byte[] prefix) {
        byte[] end = prefix.clone();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return java.util.Arrays.copyOf(end, i + 1);
            }
        }
        return new byte[] {0};
    }

    /** Reads one key as it was at {@code revision}; a compacted revision is a (non-transient) {@link StoreException}. */
    public <T> Optional<Entry<T>> get(String key, Class<T> type, long revision) {
        var resp = call("get " + key + "@" + revision, () -> client.getKVClient().get(bytes(key),
                GetOption.builder().withRevision(revision).build()));
        return resp.getKvs().stream().findFirst().map(kv -> decode(kv, type));
    }

    /** Every election under {@code prefix} with its candidates, at one revision; see {@link Elections}. */
    public Elections elections(String prefix) {
        var resp = call("list " + prefix, () -> client.getKVClient().get(bytes(prefix),
                GetOption.builder().isPrefix(true).build()));
        java.util.Map<String, List<Entry<String>>> byElection = new java.util.TreeMap<>();
        for (KeyValue kv : resp.getKvs()) {
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            int slash = key.lastIndexOf('/');
            if (slash < prefix.length()) {
                continue; // a key right under the prefix belongs to no election
            }
            String text = kv.getValue().toString(StandardCharsets.UTF_8);
            byElection.computeIfAbsent(key.substring(0, slash), k -> new ArrayList<>()).add(new Entry<>(key, text,
                    null, null, kv.getModRevision(), kv.getCreateRevision(), kv.getLease()));
        }
        byElection.values().forEach(c -> c.sort(java.util.Comparator.comparingLong(Entry::createRevision)));
        return new Elections(resp.getHeader().getRevision(), byElection);
    }

    /** Counts keys under a prefix without reading values. */
    public long count(String prefix) {
        var resp = call("count " + prefix, () -> client.getKVClient().get(bytes(prefix),
                GetOption.builder().isPrefix(true).withCountOnly(true).build()));
        return resp.getCount();
    }

    /** The store's current revision. */
    public long revision() {
        var resp = call("count " + keys.root() + "/", () -> client.getKVClient().get(bytes(keys.root() + "/"),
                GetOption.builder().withCountOnly(true).build()));
        return resp.getHeader().getRevision();
    }

    /** Writes {@code value} as JSON; returns the revision of the write. */
    public long put(String key, Object value) {
        return putBytes(key, Json.write(value), 0);
    }

    /** Writes {@code value} as JSON attached to {@code lease}. */
    public long put(String key, Object value, long lease) {
        return putBytes(key, Json.write(value), lease);
    }

    public long putBytes(String key, byte[] value, long lease) {
        PutOption opt = lease == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(lease).build();
        return call("put " + key, () -> client.getKVClient().put(bytes(key), ByteSequence.from(value), opt))
                .getHeader().getRevision();
    }

    /** Deletes one key; true when it existed. */
    public boolean delete(String key) {
        return call("delete " + key, () -> client.getKVClient().delete(bytes(key))).getDeleted() > 0;
    }

    /** Deletes every key under {@code prefix}; returns how many. */
    public long deletePrefix(String prefix) {
        return call("delete " + prefix + "*", () -> client.getKVClient().delete(bytes(prefix),
                DeleteOption.builder().isPrefix(true).build())).getDeleted();
    }

    /**
     * Compare-and-set on the mod revision: writes only when the key's mod revision is still
     * {@code expectedModRevision} (0 = the key must not exist). Returns false on a conflict.
     */
    public boolean putIf(String key, Object value, long expectedModRevision) {
        return putIf(key, Json.write(value), expectedModRevision, 0);
    }

    public boolean putIf(String key, byte[] value, long expectedModRevision, long lease) {
        return putIf(key, value, expectedModRevision, lease, List.of());
    }

    /**
     * Like {@link #putIf(String, byte[], long, long)}, and in the same transaction, only when the compare holds,
     * {@code alsoOps} (one write, one fsync, instead of two).
     */
    public boolean putIf(String key, byte[] value, long expectedModRevision, long lease, List<Op> alsoOps) {
        PutOption opt = lease == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(lease).build();
        io.etcd.jetcd.op.Op[] then = new io.etcd.jetcd.op.Op[alsoOps.size() + 1];
        then[0] = io.etcd.jetcd.op.Op.put(bytes(key), ByteSequence.from(value), opt);
        for (int i = 0; i < alsoOps.size(); i++) {
            then[i + 1] = toJetcd(alsoOps.get(i));
        }
        String what = "put " + key + (expectedModRevision == 0 ? " if absent" : " if unchanged")
                + (alsoOps.isEmpty() ? "" : " with " + keysOf(alsoOps));
        return call(what,
                () -> client.getKVClient().txn()
                .If(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision)))
                .Then(then)
                .commit()).isSucceeded();
    }

    /** For {@link #putExpecting} and {@link #deleteExpecting}: write whatever the key's state. */
    public static final long UNCONDITIONAL = -1;
    /** For {@link #putExpecting} and {@link #deleteExpecting}: write only when the key exists, at any revision. */
    public static final long EXISTING = -2;

    /**
     * A conditional write's outcome.
     *
     * @param applied  false when the precondition failed; then nothing was written
     * @param revision the revision of the write (when applied)
     * @param existed  whether the key existed just before the write (when applied)
     */
    public record Written(boolean applied, long revision, boolean existed) {
    }

    /**
     * Writes {@code value} at {@code key} when its mod revision is {@code expected} (0 = the key must not exist),
     * or under {@link #EXISTING} / {@link #UNCONDITIONAL}; answers the write's revision and whether the key was
     * there, which {@link #putIf} does not.
     */
    public Written putExpecting(String key, byte[] value, long expected) {
        var put = io.etcd.jetcd.op.Op.put(bytes(key), ByteSequence.from(value),
                PutOption.builder().withPrevKV().build());
        var resp = call("put " + key + describe(expected), () -> guarded(key, expected).Then(put).commit());
        boolean existed = !resp.getPutResponses().isEmpty() && resp.getPutResponses().get(0).hasPrevKv();
        return new Written(resp.isSucceeded(), resp.getHeader().getRevision(), resp.isSucceeded() && existed);
    }

    /** Deletes {@code key} under the same preconditions as {@link #putExpecting}. */
    public Written deleteExpecting(String key, long expected) {
        var delete = io.etcd.jetcd.op.Op.delete(bytes(key), DeleteOption.builder().withPrevKV(true).build());
        var resp = call("delete " + key + describe(expected), () -> guarded(key, expected).Then(delete).commit());
        boolean existed = !resp.getDeleteResponses().isEmpty() && resp.getDeleteResponses().get(0).getDeleted() > 0;
        return new Written(resp.isSucceeded(), resp.getHeader().getRevision(), resp.isSucceeded() && existed);
    }

    private io.etcd.jetcd.Txn guarded(String key, long expected) {
        var txn = client.getKVClient().txn();
        if (expected == UNCONDITIONAL) {
            return txn;
        }
        return txn.If(expected == EXISTING
                ? new Cmp(bytes(key), Cmp.Op.GREATER, CmpTarget.createRevision(0))
                : new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(expected)));
    }

    private static String describe(long expected) {
        return expected == UNCONDITIONAL ? "" : expected == EXISTING ? " if present"
                : expected == 0 ? " if absent" : " if unchanged";
    }

    /** Compare-and-set on the create revision: writes only while the key is the same incarnation. */
    public boolean putIfCreated(String key, Object value, long expectedCreateRevision) {
        return call("put " + key + " if the same incarnation", () -> client.getKVClient().txn()
                .If(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.createRevision(expectedCreateRevision)))
                .Then(io.etcd.jetcd.op.Op.put(bytes(key), ByteSequence.from(Json.write(value)), PutOption.DEFAULT))
                .commit()).isSucceeded();
    }

    /** Deletes only when the key's mod revision is still {@code expectedModRevision}. */
    public boolean deleteIf(String key, long expectedModRevision) {
        return call("delete " + key + " if unchanged", () -> client.getKVClient().txn()
                .If(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision)))
                .Then(io.etcd.jetcd.op.Op.delete(bytes(key), DeleteOption.DEFAULT))
                .commit()).isSucceeded();
    }

    /**
     * Commits {@code ops} in one transaction guarded by the fence: it applies only while the fence key exists
     * with the fence's create revision. Returns false when the fence no longer holds (leadership is gone);
     * then nothing was written. Keep {@code ops} within etcd's limit (128 operations by default).
     */
    public boolean commit(Fence fence, List<Op> ops) {
        requireDistinctKeys(ops);
        io.etcd.jetcd.op.Op[] then = ops.stream().map(EtcdStore::toJetcd).toArray(io.etcd.jetcd.op.Op[]::new);
        return call("write " + keysOf(ops) + " (fenced)", () -> client.getKVClient().txn()
                .If(new Cmp(bytes(fence.key()), Cmp.Op.EQUAL, CmpTarget.createRevision(fence.createRevision())))
                .Then(then)
                .commit()).isSucceeded();
    }

    /**
     * Like {@link #commit(Fence, List)}, and only while {@code key}'s mod revision is still
     * {@code expectedModRevision} (0 = the key must not exist). Returns false when either compare fails.
     */
    public boolean commitIf(Fence fence, String key, long expectedModRevision, List<Op> ops) {
        requireDistinctKeys(ops);
        io.etcd.jetcd.op.Op[] then = ops.stream().map(EtcdStore::toJetcd).toArray(io.etcd.jetcd.op.Op[]::new);
        return call("write " + keysOf(ops) + " (fenced, if " + key + " is unchanged)", () -> client.getKVClient().txn()
                .If(new Cmp(bytes(fence.key()), Cmp.Op.EQUAL, CmpTarget.createRevision(fence.createRevision())),
                        new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision)))
                .Then(then)
                .commit()).isSucceeded();
    }

    /** Commits {@code ops} in one unguarded transaction (all or nothing). */
    public void commit(List<Op> ops) {
        requireDistinctKeys(ops);
        io.etcd.jetcd.op.Op[] then = ops.stream().map(EtcdStore::toJetcd).toArray(io.etcd.jetcd.op.Op[]::new);
        call("write " + keysOf(ops), () -> client.getKVClient().txn().Then(then).commit());
    }

    /** The keys of {@code ops} for messages: the first three, then how many more. */
    private static String keysOf(List<Op> ops) {
        String first = String.join(", ", ops.stream().limit(3).map(Op::key).toList());
        return ops.size() > 3 ? first + " and " + (ops.size() - 3) + " more" : first;
    }

    /** etcd rejects a transaction that touches one key twice; say so before sending it. */
    private static void requireDistinctKeys(List<Op> ops) {
        var seen = new java.util.HashSet<String>();
        for (Op op : ops) {
            if (!seen.add(op.key())) {
                throw new IllegalArgumentException("transaction touches " + op.key() + " twice");
            }
        }
    }

    private static io.etcd.jetcd.op.Op toJetcd(Op op) {
        if (op instanceof Op.Put p) {
            PutOption opt = p.lease() == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(p.lease()).build();
            return io.etcd.jetcd.op.Op.put(bytes(p.key()), ByteSequence.from(p.value()), opt);
        }
        return io.etcd.jetcd.op.Op.delete(bytes(op.key()), DeleteOption.DEFAULT);
    }

    /** Grants a lease; returns its id. */
    public long grantLease(Duration ttl) {
        long seconds = Math.max(1, ttl.toSeconds());
        return call("grant lease", () -> client.getLeaseClient().grant(seconds)).getID();
    }

    /** Revokes a lease, deleting its keys; an unknown (already expired) lease is not an error. */
    public void revokeLease(long lease) {
        try {
            call("revoke lease " + Long.toHexString(lease) + " (and its keys)",
                    () -> client.getLeaseClient().revoke(lease));
        } catch (StoreException e) {
            if (!Failures.isNotFound(e)) {
                throw e;
            }
        }
    }

    /** Compacts history up to {@code revision}; watches from before it will get a compaction error. */
    public void compact(long revision) {
        call("compact", () -> client.getKVClient().compact(revision,
                io.etcd.jetcd.options.CompactOption.builder().withCompactPhysical(true).build()));
    }

    /** Starts keeping {@code lease} alive every {@code ttl/3}; {@code onLost} runs once if it cannot. */
    public LeaseKeeper keepAlive(long lease, Duration ttl, Runnable onLost) {
        return LeaseKeeper.start(this, lease, ttl, onLost);
    }

    /** Lists {@code prefix} and keeps following it; see {@link SliceWatch}. */
    public <T> SliceWatch<T> watchSlice(String prefix, Class<T> type, SliceWatch.Listener<T> listener) {
        return SliceWatch.start(this, prefix, type, listener);
    }

    <T> Entry<T> decode(KeyValue kv, Class<T> type) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        byte[] raw = kv.getValue().getBytes();
        try {
            T value = Json.read(raw, type);
            if (value == null) {
                throw new InvalidValueException("value is JSON null");
            }
            return new Entry<>(key, value, null, null, kv.getModRevision(), kv.getCreateRevision(), kv.getLease());
        } catch (InvalidValueException e) {
            String text = new String(raw, 0, Math.min(raw.length, 1024), StandardCharsets.UTF_8);
            return new Entry<>(key, null, e.getMessage(), text, kv.getModRevision(), kv.getCreateRevision(),
                    kv.getLease());
        }
    }

    /**
     * Runs one etcd call with a timeout, retrying transient failures with backoff until the retry budget is
     * spent. Non-transient failures are thrown at once.
     */
    public <R> R call(String what, Supplier<CompletableFuture<R>> op) {
        var registry = metrics;
        if (registry == null) {
            return attempt(what, op);
        }
        long t0 = System.nanoTime();
        String outcome = "error";
        try {
            R r = attempt(what, op);
            outcome = "ok";
            return r;
        } finally {
            io.micrometer.core.instrument.Timer.builder("intent_etcd_request_seconds")
                    .description("one etcd call, retries of transient failures included")
                    .tag("op", what.split(" ", 2)[0]).tag("outcome", outcome)
                    .serviceLevelObjectives(ETCD_BUCKETS)
                    .register(registry).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    private <R> R attempt(String what, Supplier<CompletableFuture<R>> op) {
        long deadline = System.nanoTime() + retryBudget.toNanos();
        int attempt = 0;
        while (true) {
            attempt++;
            CompletableFuture<R> f = null;
            try {
                f = op.get();
                return f.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException(what + ": interrupted", e, true);
            } catch (Exception e) {
                if (f != null) {
                    f.cancel(true);
                }
                Throwable cause = Failures.unwrap(e);
                if (Failures.isPermissionDenied(cause)) {
                    throw new PermissionDeniedException(what, user, cause);
                }
                boolean transientFailure = Failures.isTransient(cause);
                long now = System.nanoTime();
                if (!transientFailure || now >= deadline) {
                    throw new StoreException(what + " failed after " + attempt + " attempt(s): "
                            + Failures.describe(cause), cause, transientFailure);
                }
                long sleep = Math.min(Backoff.STORE.delay(attempt).toNanos(), deadline - now);
                log.debug("{} failed ({}), retry {} in {} ms", what, Failures.describe(cause), attempt,
                        sleep / 1_000_000);
                try {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new StoreException(what + ": interrupted", ie, true);
                }
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
