package io.intent.daemon;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The small HTTP face every process has: {@code GET /healthz} (200 with a JSON body while alive, 503 when
 * not: restart me), {@code GET /readyz} (200 once the process does its job, 503 before and while it cannot:
 * do not count on me) and {@code GET /metrics} (Prometheus text). Port 0 picks a free port; a negative port
 * disables it.
 */
public final class AgentServer implements AutoCloseable {
    /** A health verdict and a one-line JSON body explaining it. */
    public record Health(boolean ok, String json) {
    }

    /** A path prefix an agent serves on this server beside the health routes (e.g. setlive's logs). */
    public record Route(String pathPrefix, Handler<HttpServerRequest> handler) {
    }

    /** The extra routes agents add while they are built, before the server starts. */
    public static final class Routes {
        private final List<Route> routes = new CopyOnWriteArrayList<>();

        public void add(String pathPrefix, Handler<HttpServerRequest> handler) {
            routes.add(new Route(pathPrefix, handler));
        }

        Route match(String path) {
            for (Route r : routes) {
                if (path.startsWith(r.pathPrefix())) {
                    return r;
                }
            }
            return null;
        }
    }

    private final Vertx vertx;
    private final HttpServer server;

    private AgentServer(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    public static AgentServer start(String bindHost, int port, PrometheusMeterRegistry metrics,
                                    Supplier<Health> health, Supplier<Health> ready) {
        return start(bindHost, port, metrics, health, ready, new Routes());
    }

    /** Starts with the agents' {@code routes} besides the health routes. */
    public static AgentServer start(String bindHost, int port, PrometheusMeterRegistry metrics,
                                    Supplier<Health> health, Supplier<Health> ready, Routes routes) {
        Vertx vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer().requestHandler(req -> {
            String path = req.path();
            Route extra = routes.match(path);
            if (extra != null) {
                extra.handler().handle(req);
            } else if (path.equals("/healthz") || path.equals("/readyz")) {
                Supplier<Health> verdict = path.equals("/healthz") ? health : ready;
                // off the event loop: a readiness check may ask etcd
                vertx.executeBlocking(verdict::get, false).onComplete(ar -> {
                    Health h = ar.succeeded() ? ar.result() : new Health(false, "{\"status\":\"error\",\"error\":"
                            + io.intent.store.codec.Json.writeString(String.valueOf(ar.cause())) + "}");
                    req.response().setStatusCode(h.ok() ? 200 : 503)
                            .putHeader("content-type", "application/json").end(h.json());
                });
            } else if (path.equals("/metrics")) {
                req.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(metrics.scrape());
            } else {
                req.response().setStatusCode(404).putHeader("content-type", "application/json")
                        .end("{\"error\":\"not found\",\"paths\":[\"/healthz\",\"/readyz\",\"/metrics\"]}");
            }
        });
        try {
            server.listen(port, bindHost).await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("cannot listen on " + bindHost + ":" + port + ": " + e.getMessage(), e);
        }
        return new AgentServer(vertx, server);
    }

    public int port() {
        return server.actualPort();
    }

    @Override
    public void close() {
        try {
            vertx.close().await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort on shutdown
        }
    }
}
