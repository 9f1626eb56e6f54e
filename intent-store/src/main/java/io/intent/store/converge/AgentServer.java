package io.intent.store.converge;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
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

    private final Vertx vertx;
    private final HttpServer server;

    private AgentServer(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    public static AgentServer start(String bindHost, int port, PrometheusMeterRegistry metrics,
                                    Supplier<Health> health, Supplier<Health> ready) {
        Vertx vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer().requestHandler(req -> {
            String path = req.path();
            if (path.equals("/healthz") || path.equals("/readyz")) {
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
