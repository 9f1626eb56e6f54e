package io.intent.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code GET /v1/events}: a Server-Sent Events stream of every change under the key root (intent, placement,
 * assignments, status, liveness, leader), fed by one shared etcd slice watch. Each event is
 * {@code id: <revision>}, {@code event: put|delete}, {@code data: {"revision","kind","key","value"|"error"}} with
 * the key relative to the root. {@code ?prefix=apps/} narrows it. Only the documented prefixes are watched (one
 * slice watch each), so tokens and idempotency records are neither sent nor cached; events of different
 * prefixes may interleave out of revision order, each carries its revision.
 * A subscriber that cannot keep up (its write queue is full) is disconnected rather than buffered without bound;
 * it reconnects and re-reads the state it needs.
 */
final class EventStream implements AutoCloseable {
    /** One open stream; {@code tokenSha256} is the hash of the bearer token that opened it. */
    private record Subscriber(HttpServerResponse response, Context context, String prefix, String tokenSha256) {
    }

    private final Vertx vertx;
    private final EtcdStore store;
    private final String root;
    private final List<String> prefixes;
    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final List<SliceWatch<JsonNode>> watches = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Set<String> primed = ConcurrentHashMap.newKeySet();
    private long heartbeat = -1;

    private final Tokens tokens;

    EventStream(Vertx vertx, EtcdStore store, Tokens tokens) {
        this.vertx = vertx;
        this.store = store;
        this.tokens = tokens;
        tokens.onChange(this::dropRevoked);
        this.root = store.keys().root() + "/";
        var k = store.keys();
        this.prefixes = List.of(k.appsPrefix(), k.hostsPrefix(), k.livePrefix(), k.placementPrefix(), k.assignPrefix(),
                k.statusPrefix(), k.leaderPrefix(), k.endpointsPrefix(), k.rolloutPrefix(), k.slotsPrefix(),
                k.registrationPrefix());
    }

    /** Starts the watch (blocking until the first list is read) and the heartbeat that keeps proxies open. */
    void start() throws InterruptedException {
        for (String p : prefixes) {
            watches.add(store.watchSlice(p, JsonNode.class, (changes, rev, relisted) -> onChanges(p, changes, rev)));
        }
        for (var w : watches) {
            w.awaitReady(store.retryBudget().plusSeconds(5));
        }
        heartbeat = vertx.setPeriodic(15_000, id -> subscribers.forEach(s -> s.context().runOnContext(v -> {
            if (!s.response().closed()) {
                s.response().write(": ping\n\n");
            }
        })));
    }

    boolean ready() {
        return primed.size() == prefixes.size();
    }

    void subscribe(RoutingContext ctx) {
        ctx.put("route", "GET /v1/events");
        String prefix = ctx.request().getParam("prefix", "");
        HttpServerResponse resp = ctx.response();
        resp.setChunked(true)
                .putHeader("content-type", "text/event-stream; charset=utf-8")
                .putHeader("cache-control", "no-cache")
                .putHeader("x-accel-buffering", "no");
        Subscriber s = new Subscriber(resp, vertx.getOrCreateContext(), root + prefix, ctx.get("tokenSha256"));
        subscribers.add(s);
        resp.closeHandler(v -> subscribers.remove(s));
        resp.write("retry: 2000\n: connected at revision " + watches.stream().mapToLong(SliceWatch::revision).max().orElse(0) + "\n\n");
        // a revocation applied between authentication and add() above found no subscriber to drop: check again
        if (!allowed(s)) {
            revoke(s);
        }
    }

    private boolean allowed(Subscriber s) {
        return s.tokenSha256() != null && tokens.byHash(s.tokenSha256()).filter(t -> t.role().allows(Role.VIEWER))
                .isPresent();
    }

    /** Ends every stream whose token is no longer accepted: a revoked token must not keep reading. */
    private void dropRevoked() {
        for (Subscriber s : subscribers) {
            if (!allowed(s)) {
                revoke(s);
            }
        }
    }

    private void revoke(Subscriber s) {
        if (subscribers.remove(s)) {
            s.context().runOnContext(v -> {
                if (!s.response().closed()) {
                    s.response().end("event: revoked\ndata: {\"code\":\"unauthorized\",\"message\":"
                            + "\"the token of this stream was revoked\"}\n\n");
                }
            });
        }
    }

    private void onChanges(String prefix, List<SliceWatch.Change<JsonNode>> changes, long revision) {
        if (primed.add(prefix)) {
            // the first batch is the whole slice as it was: subscribers want changes, not a dump
            return;
        }
        for (var c : changes) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("revision", c.kind() == SliceWatch.Kind.PUT ? c.entry().modRevision() : revision);
            data.put("kind", c.kind() == SliceWatch.Kind.PUT ? "put" : "delete");
            data.put("key", c.key().substring(root.length()));
            if (c.kind() == SliceWatch.Kind.PUT) {
                if (c.entry().valid()) {
                    data.put("value", c.entry().value());
                } else {
                    data.put("error", c.entry().error());
                    data.put("raw", c.entry().raw());
                }
            }
            String frame = "id: " + data.get("revision") + "\nevent: " + data.get("kind") + "\ndata: "
                    + Json.writeString(data) + "\n\n";
            for (Subscriber s : subscribers) {
                if (c.key().startsWith(s.prefix())) {
                    s.context().runOnContext(v -> deliver(s, frame));
                }
            }
        }
    }

    private void deliver(Subscriber s, String frame) {
        if (s.response().closed()) {
            subscribers.remove(s);
            return;
        }
        if (s.response().writeQueueFull()) {
            subscribers.remove(s);
            s.response().reset();
            return;
        }
        s.response().write(Buffer.buffer(frame));
    }

    int subscribers() {
        return subscribers.size();
    }

    @Override
    public void close() {
        if (heartbeat >= 0) {
            vertx.cancelTimer(heartbeat);
        }
        subscribers.forEach(s -> s.context().runOnContext(v -> s.response().end()));
        subscribers.clear();
        watches.forEach(SliceWatch::close);
    }
}
