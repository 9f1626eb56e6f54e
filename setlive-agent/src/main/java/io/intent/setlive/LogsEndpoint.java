package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import io.intent.daemon.logs.LogSigning;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/logs/<app>?tail=N&follow=true} on a host's agent HTTP server: the app's output on this host
 * (svlogd's files for runit apps, the engine's for Docker apps) as chunked text. Only requests the API signed with
 * this host's log key ({@link LogSigning}) get an answer; anyone else gets 401. A followed stream ends once the
 * instance has left the host (its runit service dir or container is gone) and its last output is sent.
 */
public final class LogsEndpoint implements Handler<HttpServerRequest> {
    public static final String PREFIX = "/v1/logs/";
    public static final int MAX_TAIL = 100_000;
    private static final Logger log = LoggerFactory.getLogger(LogsEndpoint.class);

    private final String host;
    private final String key;
    private final String keyProblem;
    private final InstallLayout layout;
    private final String dockerHost;
    private final Duration poll;

    /**
     * @param keyFile this host's log key file; null (or unreadable) refuses every request, saying why
     */
    public LogsEndpoint(String host, Path keyFile, InstallLayout layout, String dockerHost, Duration poll) {
        this.host = host;
        this.layout = layout;
        this.dockerHost = dockerHost;
        this.poll = poll;
        String k = null;
        String problem = null;
        if (keyFile == null) {
            problem = "logs are off on host " + host + ": its agent has no --logs-key-file";
        } else {
            try {
                k = LogSigning.readKey("--logs-key-file", keyFile);
            } catch (IllegalArgumentException e) {
                problem = "logs are off on host " + host + ": " + e.getMessage();
                log.error("{}", problem);
            }
        }
        this.key = k;
        this.keyProblem = problem;
    }

    @Override
    public void handle(HttpServerRequest req) {
        HttpServerResponse resp = req.response();
        if (req.method() != HttpMethod.GET) {
            error(resp, 405, "only GET");
            return;
        }
        Optional<String> refused = key == null ? Optional.of(keyProblem)
                : LogSigning.verify(key, host, "GET", req.uri(), req.getHeader("Authorization"),
                req.getHeader(LogSigning.EXPIRES_HEADER), System.currentTimeMillis() / 1000);
        if (refused.isPresent()) {
            resp.putHeader("WWW-Authenticate", LogSigning.SCHEME);
            error(resp, 401, refused.get());
            return;
        }
        String app = req.path().substring(PREFIX.length());
        if (!Names.valid(app)) {
            error(resp, 400, "'" + app + "' is not an app name (a DNS label)");
            return;
        }
        int tail;
        try {
            tail = req.getParam("tail") == null ? 100 : Integer.parseInt(req.getParam("tail"));
        } catch (NumberFormatException e) {
            tail = -1;
        }
        if (tail < 0 || tail > MAX_TAIL) {
            error(resp, 400, "tail must be a number of lines from 0 to " + MAX_TAIL + ", not '"
                    + req.getParam("tail") + "'");
            return;
        }
        boolean follow = "true".equals(req.getParam("follow")) || "1".equals(req.getParam("follow"));
        int lines = tail;
        Context ctx = Vertx.currentContext();
        ResponseSink sink = new ResponseSink(ctx, resp);
        req.pause();
        Thread t = new Thread(() -> serve(app, lines, follow, sink, ctx, resp), "logs-" + app);
        t.setDaemon(true);
        t.start();
    }

    private void serve(String app, int tail, boolean follow, ResponseSink sink, Context ctx,
                       HttpServerResponse resp) {
        try {
            Path service = layout.service(app);
            RunitLogReader runit = new RunitLogReader(RunitRuntime.logDir(layout.root(), app), poll);
            if (runit.exists() || Files.isDirectory(service)) {
                sink.begin();
                runit.stream(tail, follow, () -> Files.isDirectory(service) && !sink.gone(), sink);
            } else {
                Optional<String> id;
                try (DockerRuntime docker = new DockerRuntime(dockerHost, host, "127.0.0.1")) {
                    id = docker.present() ? docker.logContainer(app) : Optional.empty();
                }
                if (id.isEmpty()) {
                    ctx.runOnContext(v -> error(resp, 404, "no logs of app " + app + " on host " + host));
                    return;
                }
                sink.begin();
                try (DockerLogReader reader = new DockerLogReader(dockerHost)) {
                    reader.stream(id.get(), tail, follow, sink);
                }
            }
            sink.end();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sink.end();
        } catch (Exception e) {
            log.warn("logs of {}: {}", app, e.toString());
            if (!sink.begun()) {
                ctx.runOnContext(v -> error(resp, 500, "cannot read the logs of app " + app + " on host " + host
                        + ": " + e.getMessage()));
            } else {
                sink.end();
            }
        }
    }

    private static void error(HttpServerResponse resp, int status, String message) {
        if (resp.ended() || resp.headWritten()) {
            return;
        }
        resp.setStatusCode(status).putHeader("content-type", "application/json")
                .end(Buffer.buffer(Json.write(Map.of("error", message))));
    }

    /** Writes chunks on the response's event loop, one in flight at a time: the reader waits on slow clients. */
    private static final class ResponseSink implements LogSink {
        private final Context ctx;
        private final HttpServerResponse resp;
        private volatile boolean gone;
        private volatile boolean begun;

        ResponseSink(Context ctx, HttpServerResponse resp) {
            this.ctx = ctx;
            this.resp = resp;
            ctx.runOnContext(v -> resp.closeHandler(x -> gone = true));
        }

        boolean gone() {
            return gone;
        }

        boolean begun() {
            return begun;
        }

        void begin() throws InterruptedException {
            begun = true;
            run(() -> {
                resp.setChunked(true).putHeader("content-type", "text/plain; charset=utf-8")
                        .putHeader("cache-control", "no-store");
                // headers out at once: a follower of a quiet app knows it is connected
                return resp.writeHead();
            });
        }

        @Override
        public boolean write(byte[] chunk, int length) throws InterruptedException {
            if (gone) {
                return false;
            }
            Buffer b = Buffer.buffer(java.util.Arrays.copyOf(chunk, length));
            return run(() -> resp.write(b));
        }

        void end() {
            ctx.runOnContext(v -> {
                if (!resp.ended()) {
                    if (!resp.headWritten()) {
                        resp.setChunked(true).putHeader("content-type", "text/plain; charset=utf-8");
                    }
                    resp.end();
                }
            });
        }

        private boolean run(java.util.function.Supplier<io.vertx.core.Future<Void>> op) throws InterruptedException {
            CompletableFuture<Boolean> done = new CompletableFuture<>();
            ctx.runOnContext(v -> {
                if (gone || resp.ended()) {
                    done.complete(false);
                    return;
                }
                op.get().onComplete(ar -> done.complete(ar.succeeded()));
            });
            while (true) {
                try {
                    boolean ok = done.get(1, TimeUnit.SECONDS);
                    if (!ok) {
                        gone = true;
                    }
                    return ok;
                } catch (TimeoutException e) {
                    if (gone) {
                        return false;
                    }
                } catch (ExecutionException e) {
                    gone = true;
                    return false;
                }
            }
        }
    }
}
