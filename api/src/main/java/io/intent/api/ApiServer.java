package io.intent.api;

import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.PermissionDeniedException;
import io.intent.store.etcd.StoreException;
import io.micrometer.core.instrument.Timer;
import io.intent.daemon.ProcessMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The HTTP API: {@code /v1} JSON over the intent store, the event stream, health, metrics, the OpenAPI document
 * and the web page. Event loops only route and encode; every store call runs on a worker thread.
 */
// Long (about 540 lines): the request pipeline in one place (request id, authentication, body limits,
// idempotency, the worker hand-off, error rendering, shutdown) read top to bottom; the resources themselves
// live in IntentRoutes, ObservedRoutes, LogsRoute and EventStream.
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final Set<HttpMethod> WRITES = Set.of(HttpMethod.PUT, HttpMethod.POST, HttpMethod.DELETE,
            HttpMethod.PATCH);

    /**
     * How the server runs.
     *
     * @param expectedAgents   agents every host runs (status waits for each to report)
     * @param bodyLimit        largest request body in bytes; larger gets 413
     * @param tls              the PEM certificate (chain) and key to serve HTTPS with; null serves plain HTTP
     * @param metricsNeedToken whether {@code /metrics} wants a bearer token (any role), like {@code /v1}
     */
    public record Options(String host, int port, List<String> expectedAgents, Duration idempotencyTtl, int bodyLimit,
                          Tls tls, boolean metricsNeedToken) {
        public static Options defaults() {
            return new Options("127.0.0.1", 8080, List.of("preparer", "iptables", "setlive"), Duration.ofHours(24),
                    256 * 1024, null, false);
        }

        public Options withPort(int newPort) {
            return new Options(host, newPort, expectedAgents, idempotencyTtl, bodyLimit, tls, metricsNeedToken);
        }

        public Options withHost(String newHost) {
            return new Options(newHost, port, expectedAgents, idempotencyTtl, bodyLimit, tls, metricsNeedToken);
        }

        public Options withExpectedAgents(List<String> agents) {
            return new Options(host, port, agents, idempotencyTtl, bodyLimit, tls, metricsNeedToken);
        }

        public Options withTls(Tls newTls) {
            return new Options(host, port, expectedAgents, idempotencyTtl, bodyLimit, newTls, metricsNeedToken);
        }

        public Options withMetricsNeedToken(boolean need) {
            return new Options(host, port, expectedAgents, idempotencyTtl, bodyLimit, tls, need);
        }
    }

    /** The server's certificate chain and private key, both PEM files (the key PKCS#8, PKCS#1 RSA or SEC1 EC). */
    public record Tls(Path certFile, Path keyFile) {
        /** Fails naming the option and file when either cannot be read, before anything listens. */
        public Tls {
            check("--tls-cert", certFile);
            check("--tls-key", keyFile);
        }

        private static void check(String option, Path file) {
            if (file == null) {
                throw new IllegalArgumentException("HTTPS needs both --tls-cert and --tls-key; " + option
                        + " is missing");
            }
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException(option + " " + file + ": not a readable file");
            }
        }
    }

    private final Vertx vertx;
    private final IntentRoutes intentRoutes;
    private final ObservedRoutes observedRoutes;
    private final EtcdStore store;
    private final Tokens tokens;
    private final Options options;
    private final PrometheusMeterRegistry metrics = ProcessMetrics.registry();
    private final Idempotency idempotency;
    /** The router, kept for {@link #routes()}. */
    private Router router;
    private final EventStream events;
    private final ReadCache cache;
    private final byte[] openapi;
    private final LogsRoute logs;
    private volatile int port;

    private ApiServer(Vertx vertx, EtcdStore store, Tokens tokens, Options options, LogsRoute.Settings logs) {
        this.vertx = vertx;
        this.cache = new ReadCache(store);
        this.intentRoutes = new IntentRoutes(store, cache, options);
        this.observedRoutes = new ObservedRoutes(store, cache, options);
        this.store = store;
        this.tokens = tokens;
        this.options = options;
        this.idempotency = new Idempotency(store, options.idempotencyTtl());
        this.events = new EventStream(vertx, store, tokens);
        this.openapi = resource("openapi.json");
        this.logs = new LogsRoute(vertx, store, logs);
        store.withMetrics(metrics);
    }

    /** Starts on its own Vert.x instance; blocks until listening (call from a main thread, not an event loop). */
    public static ApiServer start(EtcdStore store, Tokens tokens, Options options) {
        return start(store, tokens, options, null, 9471, false);
    }

    /**
     * Starts with the logs route on: {@code logsMasterKey} (null: logs off) signs the requests to each host's node
     * on {@code logsPort}; {@code logsForViewers} lets viewer tokens read logs too.
     */
    public static ApiServer start(EtcdStore store, Tokens tokens, Options options, String logsMasterKey,
                                  int logsPort, boolean logsForViewers) {
        Vertx vertx = Vertx.vertx();
        ApiServer api = new ApiServer(vertx, store, tokens, options,
                new LogsRoute.Settings(logsMasterKey, logsPort, logsForViewers));
        try {
            api.listen().await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            api.close();
            throw new IllegalStateException("API cannot listen on " + options.host() + ":" + options.port() + ": "
                    + e.getMessage(), e);
        }
        return api;
    }

    /**
     * Listens with one HTTP server per event loop; Vert.x spreads connections over servers sharing a port. Port 0
     * becomes -1: Vert.x's way of letting several servers share one random port.
     */
    private Future<ApiServer> listen() {
        int loops = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        int shared = options.port() == 0 ? -1 : options.port();
        return vertx.executeBlocking(() -> {
            cache.start();
            events.start();
            // etcd down at start: listen anyway; reads read etcd (503) until the cache has its first list
            cache.awaitReady(Duration.ofSeconds(5));
            return null;
        }).compose(x -> vertx.deployVerticle(() -> new ServerVerticle(shared), new DeploymentOptions().setInstances(loops)))
                .map(x -> {
                    log.info("API listening on {}://{}:{}/ ({} event loops, {} tokens)", scheme(), options.host(),
                            port, loops, tokens.size());
                    return this;
                });
    }

    /** One HTTP server on its own event loop, with its own router over the shared routes. */
    private final class ServerVerticle extends VerticleBase {
        private final int listenPort;

        ServerVerticle(int listenPort) {
            this.listenPort = listenPort;
        }

        @Override
        public Future<?> start() {
            HttpServerOptions http = new HttpServerOptions().setCompressionSupported(true);
            if (options.tls() != null) {
                http.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                        .setCertPath(options.tls().certFile().toString())
                        .setKeyPath(options.tls().keyFile().toString()));
            }
            return vertx.createHttpServer(http)
                    .requestHandler(router()).listen(listenPort, options.host())
                    .onSuccess(s -> port = s.actualPort());
        }
    }

    public int port() {
        return port;
    }

    private String scheme() {
        return options.tls() == null ? "http" : "https";
    }

    public String url() {
        return scheme() + "://" + (options.host().equals("0.0.0.0") ? "127.0.0.1" : options.host()) + ":" + port();
    }

    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    private Router router() {
        Router router = Router.router(vertx);
        this.router = router;
        router.route().handler(this::requestId);
        router.get("/healthz").handler(ctx -> ctx.response().putHeader("content-type", "application/json")
                .end("{\"ok\":true}"));
        router.get("/readyz").handler(this::ready);
        if (options.metricsNeedToken()) {
            router.get("/metrics").handler(this::authenticate);
        }
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
        router.get("/v1/openapi.json").handler(ctx -> ctx.response().putHeader("content-type", "application/json")
                .end(Buffer.buffer(openapi)));
        router.route("/v1/*").handler(this::authenticate);
        // only methods with a body pay for buffering one (a GET is the hot path)
        BodyHandler bodies = BodyHandler.create(false).setBodyLimit(options.bodyLimit());
        for (HttpMethod m : WRITES) {
            router.route("/v1/*").method(m).handler(bodies);
        }
        router.route("/v1/*").handler(this::contentType);

        intentRoutes.register(this, router);
        observedRoutes.register(this, router);
        logs.register(this, router);
        router.get("/v1/events").handler(ctx -> {
            require(ctx, Role.VIEWER);
            events.subscribe(ctx);
        });
        router.route("/v1/*").handler(ctx -> ctx.fail(404));
        router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false)
                .setIndexPage("index.html"));

        router.route().failureHandler(this::failure);
        for (int code : new int[] {400, 401, 403, 404, 405, 413, 415, 500, 503}) {
            router.errorHandler(code, this::failure);
        }
        return router;
    }

    /**
     * Every route this API serves with a fixed path, as "METHOD /path/{param}" (OpenAPI's spelling): what
     * openapi.json must describe.
     */
    List<String> routes() {
        List<String> all = new ArrayList<>();
        for (var r : router.getRoutes()) {
            if (r.getPath() == null || !r.isExactPath() || r.methods() == null) {
                continue; // the catch-alls: authentication, bodies, 404, the web page
            }
            String path = r.getPath().replaceAll(":([A-Za-z0-9_]+)", "{$1}");
            r.methods().forEach(m -> all.add(m.name() + " " + path));
        }
        return all;
    }

    /** Registers {@code endpoint} for {@code method path}: role check, worker thread, idempotency for writes. */
    void route(Router router, HttpMethod method, String path, Role role, Endpoint endpoint) {
        route(router, method, path, role, endpoint, false);
    }

    /**
     * Registers a cheap read of one resource from the cache: answered on the event loop when the cache can serve
     * it at once (no catch-up wait, no {@code ?consistent=true}), which saves the worker-thread hand-off that
     * otherwise dominates its cost; on a worker thread otherwise.
     */
    void routeCached(Router router, String path, Endpoint endpoint) {
        route(router, HttpMethod.GET, path, Role.VIEWER, endpoint, true);
    }

    private void route(Router router, HttpMethod method, String path, Role role, Endpoint endpoint,
                       boolean inline) {
        String label = method.name() + " " + path;
        router.route(method, path).handler(ctx -> {
            ctx.put("route", label);
            Tokens.Token who = require(ctx, role);
            String rid = ctx.get("requestId");
            Call call = new Call(ctx, who, rid);
            View now = inline && ctx.request().getParam("consistent") == null ? cache.now() : null;
            if (now != null) {
                // the endpoint reads this snapshot: nothing on the event loop may wait
                ctx.put(ReadCache.VIEW, now);
                Reply reply;
                try {
                    reply = endpoint.handle(call);
                } catch (Exception e) {
                    ctx.fail(e);
                    return;
                }
                send(ctx, reply);
                return;
            }
            // only writes (operator and up) keep idempotency records; a read-only POST like /v1/plan needs none
            boolean write = WRITES.contains(method) && role != Role.VIEWER;
            blocking(rid, () -> run(call, write, endpoint))
                    .onSuccess(reply -> send(ctx, reply))
                    .onFailure(ctx::fail);
        });
    }

    private Reply run(Call call, boolean write, Endpoint endpoint) throws Exception {
        String key = call.header("Idempotency-Key");
        if (key == null || !write) {
            return endpoint.handle(call);
        }
        var claim = idempotency.claim(call.principal().name(), key, call.ctx().request().method().name(),
                call.ctx().request().path(), call.body());
        if (claim.replay() != null) {
            log.info("requestId={} replayed the answer to Idempotency-Key request", call.requestId());
            return claim.replay();
        }
        try {
            Reply r = endpoint.handle(call);
            idempotency.complete(claim, r.status(), r.headers().get("ETag"), r.body());
            return r;
        } catch (ApiError e) {
            idempotency.complete(claim, e.status(), null, errorBody(e, call.requestId()));
            throw e;
        } catch (Exception e) {
            idempotency.complete(claim, 500, null, null);
            throw e;
        }
    }

    /** Runs blocking work on a worker thread with the request id in the MDC. */
    <T> Future<T> blocking(String requestId, Callable<T> work) {
        return vertx.executeBlocking(() -> {
            MDC.put("requestId", requestId);
            try {
                return work.call();
            } finally {
                MDC.remove("requestId");
            }
        }, false);
    }

    /** Request timers by route and status, so a request does not build and look up a meter id. */
    private final Map<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();

    private static String requestUuid() {
        var r = java.util.concurrent.ThreadLocalRandom.current();
        long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(hi, lo).toString();
    }

    private void requestId(RoutingContext ctx) {
        String given = ctx.request().getHeader("X-Request-Id");
        // a random (version 4 layout) UUID from a non-blocking generator: a request id is a label, not a secret,
        // and SecureRandom was a measurable share of a cached read
        String id = given != null && REQUEST_ID.matcher(given).matches() ? given : requestUuid();
        ctx.put("requestId", id);
        ctx.response().putHeader("X-Request-Id", id);
        long start = System.nanoTime();
        ctx.addEndHandler(ar -> {
            int status = ctx.response().getStatusCode();
            String route = ctx.get("route") == null ? (ctx.request().path().startsWith("/v1/") ? "other" : "static")
                    : ctx.get("route");
            long nanos = System.nanoTime() - start;
            timers.computeIfAbsent(route + " " + status, k -> Timer.builder("intent_api_requests")
                    .description("API requests by route and status")
                    .tag("route", route).tag("status", Integer.toString(status))
                    .register(metrics)).record(nanos, TimeUnit.NANOSECONDS);
            MDC.put("requestId", id);
            try {
                if (status >= 400 || WRITES.contains(ctx.request().method())) {
                    log.info("requestId={} {} {} -> {} in {} ms", id, ctx.request().method(), ctx.request().path(),
                            status, nanos / 1_000_000);
                } else if (log.isDebugEnabled()) {
                    log.debug("requestId={} {} {} -> {} in {} ms", id, ctx.request().method(), ctx.request().path(),
                            status, nanos / 1_000_000);
                }
            } finally {
                MDC.remove("requestId");
            }
        });
        ctx.next();
    }

    /** 401 without a valid bearer token. The token itself never reaches a log line. */
    private void authenticate(RoutingContext ctx) {
        String auth = ctx.request().getHeader("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            fail401(ctx, "missing bearer token: send Authorization: Bearer <token>");
            return;
        }
        var token = tokens.authenticate(auth.substring(7).strip());
        if (token.isEmpty()) {
            fail401(ctx, "unknown bearer token");
            return;
        }
        ctx.put("principal", token.get());
        ctx.put("tokenSha256", Tokens.hash(auth.substring(7).strip()));
        ctx.next();
    }

    private void fail401(RoutingContext ctx, String message) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"intent\"");
        ctx.fail(new ApiError(401, "unauthorized", message));
    }

    /** The caller's token when its role allows {@code needed}; otherwise a 403 naming the role required. */
    static Tokens.Token require(RoutingContext ctx, Role needed) {
        Tokens.Token who = ctx.get("principal");
        if (who == null) {
            throw new ApiError(401, "unauthorized", "missing bearer token");
        }
        if (!who.role().allows(needed)) {
            throw new ApiError(403, "forbidden", "token '" + who.name() + "' has role " + who.role() + "; this needs "
                    + needed);
        }
        return who;
    }

    /** Bodies must be JSON; an empty body needs no content type. */
    private void contentType(RoutingContext ctx) {
        HttpMethod m = ctx.request().method();
        if (WRITES.contains(m) && ctx.body() != null && ctx.body().length() > 0) {
            String ct = ctx.request().getHeader("Content-Type");
            String mime = ct == null ? "" : ct.split(";", 2)[0].strip().toLowerCase();
            if (!mime.equals("application/json")) {
                ctx.fail(new ApiError(415, "unsupported_media_type", "Content-Type must be application/json, not '"
                        + (ct == null ? "(none)" : ct) + "'"));
                return;
            }
        }
        ctx.next();
    }

    private void ready(RoutingContext ctx) {
        ctx.put("route", "GET /readyz");
        blocking(ctx.get("requestId"), store::revision).onComplete(ar -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ready", ar.succeeded() && events.ready() && cache.ready());
            body.put("etcd", ar.succeeded() ? "reachable" : "unreachable: " + ar.cause().getMessage());
            if (ar.succeeded()) {
                body.put("revision", ar.result());
            }
            body.put("events", events.ready() ? "watching" : "not watching yet");
            body.put("cache", cache.ready() ? "at revision " + cache.revision() : "not listed yet");
            body.put("tokens", tokens.size());
            ctx.response().setStatusCode(ar.succeeded() && events.ready() && cache.ready() ? 200 : 503)
                    .putHeader("content-type", "application/json").end(Buffer.buffer(Json.write(body)));
        });
    }

    void send(RoutingContext ctx, Reply r) {
        var resp = ctx.response();
        resp.setStatusCode(r.status());
        r.headers().forEach(resp::putHeader);
        if (r.body() == null) {
            resp.end();
        } else {
            byte[] json = r.body() instanceof Encoded e ? e.json() : Json.write(r.body());
            resp.putHeader("content-type", "application/json").end(Buffer.buffer(json));
        }
    }

    /** A body already encoded as JSON (e.g. kept per key revision by a read path), sent as is. */
    record Encoded(byte[] json) {
    }

    private void failure(RoutingContext ctx) {
        Throwable t = ctx.failure();
        String rid = ctx.get("requestId");
        ApiError e;
        if (t instanceof ApiError a) {
            e = a;
        } else if (t instanceof HttpException h) {
            e = ApiError.ofStatus(h.getStatusCode());
        } else if (t instanceof InvalidValueException iv) {
            e = Call.parseError(iv);
        } else if (t instanceof PermissionDeniedException p) {
            // a misconfigured etcd role, not a client error and not worth retrying: say which key and which user
            log.error("requestId={} {} {}: {}", rid, ctx.request().method(), ctx.request().path(), p.getMessage());
            e = new ApiError(500, "store_permission_denied", p.getMessage());
        } else if (t instanceof StoreException s && s.isTransient()) {
            log.warn("requestId={} etcd unavailable: {}", rid, s.getMessage());
            // a write etcd did not acknowledge may still be applied once etcd is back (jetcd keeps it queued)
            e = new ApiError(503, "store_unavailable", ctx.request().method() == HttpMethod.GET
                    ? "etcd is unreachable; retry later"
                    : "etcd did not answer in time: this change may or may not have been applied; read it back, "
                    + "or retry with the same Idempotency-Key");
        } else if (t != null) {
            MDC.put("requestId", String.valueOf(rid));
            log.error("requestId={} internal error on {} {}", rid, ctx.request().method(), ctx.request().path(), t);
            MDC.remove("requestId");
            e = new ApiError(500, "internal", "internal error; the log has details under requestId " + rid);
        } else {
            e = ApiError.ofStatus(ctx.statusCode() < 0 ? 500 : ctx.statusCode());
        }
        var resp = ctx.response();
        if (resp.ended()) {
            return;
        }
        if (resp.headWritten()) {
            resp.reset();
            return;
        }
        if (rid != null) {
            resp.putHeader("X-Request-Id", rid);
        }
        if (e.status() == 413) {
            resp.putHeader("Connection", "close");
        }
        resp.setStatusCode(e.status()).putHeader("content-type", "application/json")
                .end(Buffer.buffer(Json.write(errorBody(e, rid))));
    }

    /** The one error shape. */
    static Map<String, Object> errorBody(ApiError e, String requestId) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("code", e.code());
        err.put("message", e.getMessage());
        err.put("details", e.details());
        err.put("requestId", requestId);
        return Map.of("error", err);
    }

    private static byte[] resource(String name) {
        try (InputStream in = ApiServer.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        events.close();
        cache.close();
        observedRoutes.close();
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("API shutdown: {}", e.toString());
        }
    }
}
