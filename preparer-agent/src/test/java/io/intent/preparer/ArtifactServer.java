package io.intent.preparer;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server (Vert.x) serving test artifacts well and badly. Paths:
 * {@code /ok/NAME}, {@code /slow/NAME} (16 KiB every {@code slowMillis}), {@code /stall/NAME} (half, then
 * silence), {@code /reset/NAME} (half of a Content-Length body, then a TCP reset), {@code /truncated/NAME}
 * (chunked, ends cleanly after half), {@code /redirect/N/NAME} (N hops to /ok/NAME), anything else 404.
 */
final class ArtifactServer implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final HttpServer server;
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    volatile int slowMillis = 50;
    volatile int slowChunk = 16 * 1024;

    private final String scheme;

    ArtifactServer() throws Exception {
        this(null, null);
    }

    /** With a PKCS#12 key store, serves https. */
    ArtifactServer(java.nio.file.Path keyStore, String password) throws Exception {
        HttpServerOptions opts = new HttpServerOptions().setSoLinger(0);
        if (keyStore != null) {
            opts.setSsl(true).setKeyCertOptions(new io.vertx.core.net.PfxOptions().setPath(keyStore.toString())
                    .setPassword(password));
        }
        scheme = keyStore == null ? "http" : "https";
        server = vertx.createHttpServer(opts)
                .requestHandler(this::handle)
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    void put(String name, byte[] bytes) {
        files.put(name, bytes);
    }

    byte[] body(String name) {
        return files.get(name);
    }

    String url(String mode, String name) {
        return scheme + "://127.0.0.1:" + server.actualPort() + "/" + mode + "/" + name;
    }

    private void handle(HttpServerRequest req) {
        requests.incrementAndGet();
        String[] parts = req.path().split("/");
        HttpServerResponse resp = req.response();
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable finished = () -> {
            if (counted.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
            }
        };
        resp.endHandler(v -> finished.run());
        resp.closeHandler(v -> finished.run());
        if (parts.length < 3) {
            resp.setStatusCode(404).end();
            return;
        }
        String mode = parts[1];
        if (mode.equals("tohttp")) {
            resp.setStatusCode(302).putHeader("Location", "http://127.0.0.1:9/ok/" + parts[2]).end();
            return;
        }
        if (mode.equals("redirect") && parts.length == 4) {
            int n = Integer.parseInt(parts[2]);
            String next = n <= 1 ? "/ok/" + parts[3] : "/redirect/" + (n - 1) + "/" + parts[3];
            resp.setStatusCode(302).putHeader("Location", next).end();
            return;
        }
        byte[] body = files.get(parts[2]);
        if (body == null) {
            resp.setStatusCode(404).end("no such artifact");
            return;
        }
        switch (mode) {
            case "ok" -> resp.putHeader("Content-Length", String.valueOf(body.length)).end(Buffer.buffer(body));
            case "slow" -> {
                resp.putHeader("Content-Length", String.valueOf(body.length));
                int[] at = {0};
                vertx.setPeriodic(slowMillis, id -> {
                    if (resp.closed() || resp.ended()) {
                        vertx.cancelTimer(id);
                        return;
                    }
                    int n = Math.min(slowChunk, body.length - at[0]);
                    resp.write(Buffer.buffer(java.util.Arrays.copyOfRange(body, at[0], at[0] + n)));
                    at[0] += n;
                    if (at[0] >= body.length) {
                        vertx.cancelTimer(id);
                        resp.end();
                    }
                });
            }
            case "stall" -> {
                resp.putHeader("Content-Length", String.valueOf(body.length));
                resp.write(Buffer.buffer(java.util.Arrays.copyOf(body, body.length / 2)));
            }
            case "reset" -> {
                resp.putHeader("Content-Length", String.valueOf(body.length));
                resp.write(Buffer.buffer(java.util.Arrays.copyOf(body, body.length / 2)))
                        .onComplete(x -> vertx.setTimer(50, id -> req.connection().close()));
            }
            case "truncated" -> {
                resp.setChunked(true);
                resp.end(Buffer.buffer(java.util.Arrays.copyOf(body, body.length / 2)));
            }
            default -> resp.setStatusCode(404).end();
        }
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
