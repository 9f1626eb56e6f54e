package io.intent.api;

import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Makes writes carrying an {@code Idempotency-Key} safe to retry: the first request claims the key in etcd
 * ({@code <root>/idempotency/<sha256(token name, key)>}, created only if absent), runs, and stores its response;
 * a repeat with the same method, path and body gets the stored response again without writing; a repeat with a
 * different request is refused (422); a repeat while the first is still running waits for its answer (a client's
 * retry after its own timeout gets the first attempt's outcome), and gets 409 only when the first still runs after
 * one etcd retry budget. Records live on an
 * etcd lease of {@code ttl} (24 h by default; the lease is shared and renewed hourly, so a record lives between
 * ttl and ttl + 1 h), so they survive API restarts and are shared by every API replica. A claim whose request
 * failed with a server error (5xx) is released, so the client may retry. A claim left pending longer than four
 * etcd retry budgets (a request that died with its API process, or a claim etcd applied after the API gave up on
 * it) is abandoned: the next request with the key takes it over. Blocking.
 */
final class Idempotency {
    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");

    /** What is stored under an idempotency key. */
    record Record(String state, String fingerprint, long claimedAt, int status, String etag, String body) {
    }

    /** The outcome of claiming a key: either this request runs, or here is the earlier answer. */
    record Claim(String key, Reply replay) {
    }

    private final EtcdStore store;
    private final Duration ttl;
    private long lease;
    private long leaseGrantedAt;

    Idempotency(EtcdStore store, Duration ttl) {
        this.store = store;
        this.ttl = ttl;
    }

    static void checkHeader(String key) {
        if (!KEY.matcher(key).matches()) {
            throw ApiError.badRequest("Idempotency-Key must be 1-255 visible ASCII characters");
        }
    }

    /**
     * Claims {@code key} for this request, or returns the stored reply of the request that claimed it first. While
     * that request is still running (a client's retry after its own timeout), waits for its outcome for up to one
     * etcd retry budget rather than answering 409 at once: the retry then gets the first attempt's answer.
     */
    Claim claim(String principal, String key, String method, String path, byte[] body) {
        checkHeader(key);
        String etcdKey = store.keys().root() + "/idempotency/" + Tokens.hash(principal + "\n" + key);
        String fingerprint = Tokens.hash(method + " " + path + "\n" + new String(body, StandardCharsets.UTF_8));
        long giveUp = System.nanoTime() + store.retryBudget().toNanos();
        long pauseMs = 10;
        while (true) {
            long now = System.currentTimeMillis();
            byte[] pending = Json.write(new Record("pending", fingerprint, now, 0, null, null));
            if (store.putIf(etcdKey, pending, 0, lease())) {
                return new Claim(etcdKey, null);
            }
            // absent here: the first request failed on our side and released the claim (or it expired): claim again
            Optional<Entry<Record>> seen = store.get(etcdKey, Record.class).filter(Entry::valid);
            if (seen.isPresent()) {
                Record r = seen.get().value();
                if (!r.fingerprint().equals(fingerprint)) {
                    throw new ApiError(422, "idempotency_key_reused",
                            "this Idempotency-Key was used for a different request (method, path or body differ)");
                }
                if (!r.state().equals("pending")) {
                    return new Claim(etcdKey, replay(r));
                }
                boolean abandoned = now - r.claimedAt() > store.retryBudget().multipliedBy(4).toMillis();
                if (abandoned && store.putIf(etcdKey, pending, seen.get().modRevision(), lease())) {
                    return new Claim(etcdKey, null);
                }
            }
            if (System.nanoTime() - giveUp > 0) {
                throw inProgress();
            }
            pauseMs = pause(pauseMs);
        }
    }

    /** The stored answer of a finished request, as it is sent again. */
    private static Reply replay(Record r) {
        Object stored = r.body() == null ? null : Json.tree(r.body().getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = r.etag() == null ? Map.of("Idempotent-Replayed", "true")
                : Map.of("Idempotent-Replayed", "true", "ETag", r.etag());
        return new Reply(r.status(), stored, headers);
    }

    /** Sleeps {@code ms} (a worker thread: the first request's remaining etcd calls take milliseconds); the next. */
    private static long pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw inProgress();
        }
        return Math.min(ms * 2, 200);
    }

    private static ApiError inProgress() {
        return new ApiError(409, "conflict", "a request with this Idempotency-Key is in progress; retry later");
    }

    /** Stores the reply of a claimed request, or releases the claim when the request failed on our side. */
    void complete(Claim claim, int status, String etag, Object body) {
        if (status >= 500) {
            store.delete(claim.key());
            return;
        }
        Record pending = store.get(claim.key(), Record.class).filter(e -> e.valid()).map(e -> e.value()).orElse(null);
        if (pending == null) {
            return;
        }
        String text = body == null ? null : Json.writeString(body);
        store.put(claim.key(), new Record("done", pending.fingerprint(), pending.claimedAt(), status, etag, text),
                lease());
    }

    /** The shared lease records are attached to: granted for ttl + 1 h, replaced every hour. */
    private synchronized long lease() {
        long now = System.currentTimeMillis();
        if (lease == 0 || now - leaseGrantedAt > Duration.ofHours(1).toMillis()) {
            lease = store.grantLease(ttl.plusHours(1));
            leaseGrantedAt = now;
        }
        return lease;
    }
}
