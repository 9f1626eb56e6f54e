package io.intent.api;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Names;
import io.intent.store.etcd.EtcdStore;
import io.intent.daemon.logs.LogSigning;
import io.intent.store.model.HostSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * {@code GET /v1/apps/{app}/logs?host=&tail=&follow=}: an app's output, streamed from the hosts that run it. The
 * API asks each host's node ({@code http://<hosts/<host>.address>:<logs port>/v1/logs/<app>}) with a request
 * signed by that host's log key ({@link LogSigning}), and streams the answer on as chunked text; with several
 * hosts every line is prefixed {@code <host> | }. Nothing blocks an event loop: the store is read on a worker,
 * the nodes' answers are piped with backpressure.
 */
final class LogsRoute {
    /**
     * @param masterKey  the API's log master key (each host's key derives from it); null: logs are off (503)
     * @param nodePort   the port of every host's agent HTTP server that serves logs (the node's http-port)
     * @param forViewers whether viewer tokens may read logs (else operator and up)
     */
    record Settings(String masterKey, int nodePort, boolean forViewers) {
        static Settings off() {
            return new Settings(null, 9471, false);
        }
    }

    /** One host to read from. */
    record Target(String host, String address) {
    }

    private final EtcdStore store;
    private final KeyLayout keys;
    private final Settings settings;
    private final HttpClient client;

    LogsRoute(Vertx vertx, EtcdStore store, Settings settings) {
        this.store = store;
        this.keys = store.keys();
        this.settings = settings;
        // no idle timeout: a followed quiet app sends nothing for long
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000).setIdleTimeout(0));
    }

    void register(ApiServer api, Router router) {
        router.get("/v1/apps/:app/logs").handler(ctx -> {
            ctx.put("route", "GET /v1/apps/:app/logs");
            ApiServer.require(ctx, settings.forViewers() ? Role.VIEWER : Role.OPERATOR);
            String app = ctx.pathParam("app");
            if (!Names.valid(app)) {
                throw ApiError.badRequest("'" + app + "' is not an app name (a DNS label)");
            }
            String host = ctx.request().getParam("host");
            if (host != null && !Names.valid(host)) {
                throw ApiError.badRequest("host '" + host + "' is not a host name (a DNS label)");
            }
            String tailParam = ctx.request().getParam("tail");
            int tail;
            try {
                tail = tailParam == null ? 100 : Integer.parseInt(tailParam);
            } catch (NumberFormatException e) {
                tail = -1;
            }
            if (tail < 0 || tail > 100_000) {
                throw ApiError.badRequest("tail must be a number of lines from 0 to 100000, not '" + tailParam + "'");
            }
            String followParam = ctx.request().getParam("follow");
            if (followParam != null && !List.of("true", "false", "1", "0").contains(followParam)) {
                throw ApiError.badRequest("follow must be true or false, not '" + followParam + "'");
            }
            boolean follow = "true".equals(followParam) || "1".equals(followParam);
            if (settings.masterKey() == null) {
                throw new ApiError(503, "logs_unavailable", "logs are off: the API has no --logs-key-file");
            }
            int lines = tail;
            api.blocking(ctx.get("requestId"), () -> targets(app, host))
                    .onSuccess(targets -> open(ctx, app, targets, lines, follow))
                    .onFailure(ctx::fail);
        });
    }

    /** The hosts with an assignment of {@code app} (just {@code host} when given), with their addresses. */
    private List<Target> targets(String app, String host) {
        if (store.get(keys.app(app), Object.class).isEmpty()) {
            var apps = new TreeSet<String>();
            store.list(keys.appsPrefix(), Object.class).entries()
                    .forEach(e -> apps.add(KeyLayout.childName(keys.appsPrefix(), e.key())));
            throw new ApiError(404, "not_found", "no app '" + app + "'; apps: " + (apps.isEmpty() ? "(none)"
                    : String.join(", ", apps)));
        }
        TreeSet<String> hosts = new TreeSet<>();
        for (var e : store.list(keys.assignPrefix(), Object.class).entries()) {
            String[] ha = KeyLayout.hostAndApp(keys.assignPrefix(), e.key());
            if (ha != null && app.equals(ha[1])) {
                hosts.add(ha[0]);
            }
        }
        String runsOn = hosts.isEmpty() ? "it runs on no host yet" : "it runs on " + String.join(", ", hosts);
        if (host != null && !hosts.contains(host)) {
            boolean known = store.get(keys.host(host), Object.class).isPresent();
            throw new ApiError(404, "not_found", (known ? "app '" + app + "' has no instance on host '" + host + "'"
                    : "no host '" + host + "'") + "; " + runsOn);
        }
        if (hosts.isEmpty()) {
            throw new ApiError(404, "not_found", "app '" + app + "' has no instance: " + runsOn);
        }
        List<Target> out = new ArrayList<>();
        for (String h : host != null ? List.of(host) : hosts) {
            String addr = store.get(keys.host(h), HostSpec.class).map(e -> e.value() == null ? null
                            : e.value().address())
                    .or(() -> store.get(keys.registration(h), HostSpec.class).map(e -> e.value() == null ? null
                            : e.value().address()))
                    .orElse(null);
            out.add(new Target(h, addr));
        }
        return out;
    }

    /** An answer from one host's node: a paused response to stream, or why there is none. */
    private record Source(Target target, HttpClientRequest request, HttpClientResponse response, String problem) {
    }

    private void open(RoutingContext ctx, String app, List<Target> targets, int tail, boolean follow) {
        List<Future<Source>> asks = new ArrayList<>();
        for (Target t : targets) {
            asks.add(ask(t, app, tail, follow));
        }
        Future.join(asks).onComplete(ar -> {
            List<Source> ok = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            for (Future<Source> f : asks) {
                Source s = f.result();
                if (s.problem() == null) {
                    ok.add(s);
                } else {
                    problems.add(s.problem());
                }
            }
            HttpServerResponse resp = ctx.response();
            if (ok.isEmpty()) {
                boolean allMissing = asks.stream().allMatch(f -> f.result().problem().contains("no logs of app"));
                ctx.fail(allMissing ? new ApiError(404, "not_found", String.join("; ", problems))
                        : new ApiError(502, "logs_unreachable", String.join("; ", problems)));
                return;
            }
            resp.setChunked(true).putHeader("content-type", "text/plain; charset=utf-8")
                    .putHeader("cache-control", "no-store");
            resp.closeHandler(v -> ok.forEach(s -> s.request().reset()));
            boolean prefix = targets.size() > 1;
            for (String p : problems) {
                resp.write("# " + p + "\n");
            }
            int[] open = {ok.size()};
            Runnable ended = () -> {
                if (--open[0] == 0 && !resp.ended()) {
                    resp.end();
                }
            };
            List<RecordParser> parsers = new ArrayList<>();
            for (Source s : ok) {
                pipe(s, resp, prefix, parsers, ended);
            }
        });
    }

    /**
     * Copies one host's answer into the response: as it comes for a single host, else line by line behind a
     * {@code <host> | } tag (a full response pauses every host's parser until it drains).
     */
    private static void pipe(Source s, HttpServerResponse resp, boolean prefix, List<RecordParser> parsers,
                             Runnable ended) {
        HttpClientResponse in = s.response();
        in.exceptionHandler(e -> ended.run());
        if (!prefix) {
            // one host: its bytes as they come, with the response's own backpressure
            in.handler(b -> {
                resp.write(b);
                if (resp.writeQueueFull()) {
                    in.pause();
                    resp.drainHandler(v -> in.resume());
                }
            });
            in.endHandler(v -> ended.run());
        } else {
            Buffer tag = Buffer.buffer(s.target().host() + " | ", StandardCharsets.UTF_8.name());
            RecordParser lines = RecordParser.newDelimited("\n", in);
            parsers.add(lines);
            lines.handler(line -> {
                resp.write(tag.copy().appendBuffer(line).appendString("\n"));
                if (resp.writeQueueFull()) {
                    parsers.forEach(RecordParser::pause);
                    resp.drainHandler(v -> parsers.forEach(RecordParser::resume));
                }
            });
            lines.endHandler(v -> ended.run());
        }
        in.resume();
    }

    /** Asks one host's node for the logs; always succeeds, with the paused response or the problem. */
    private Future<Source> ask(Target t, String app, int tail, boolean follow) {
        if (t.address() == null || t.address().isBlank()) {
            return Future.succeededFuture(new Source(t, null, null, "host " + t.host()
                    + " has no address in " + keys.host(t.host())));
        }
        String uri = "/v1/logs/" + app + "?tail=" + tail + "&follow=" + follow;
        long expires = System.currentTimeMillis() / 1000 + 30;
        String hostKey = LogSigning.hostKey(settings.masterKey(), t.host());
        RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost(t.address())
                .setPort(settings.nodePort()).setURI(uri)
                .putHeader("Authorization", LogSigning.sign(hostKey, t.host(), "GET", uri, expires))
                .putHeader(LogSigning.EXPIRES_HEADER, Long.toString(expires));
        String where = "host " + t.host() + " (" + t.address() + ":" + settings.nodePort() + ")";
        return client.request(ro).compose(req -> req.send().compose(resp -> {
            if (resp.statusCode() == 200) {
                // paused at once, in this callback: no byte is lost before the stream is wired
                resp.pause();
                return Future.succeededFuture(new Source(t, req, resp, null));
            }
            return resp.body().map(body -> {
                String msg = errorOf(body);
                String problem = switch (resp.statusCode()) {
                    case 404 -> msg;
                    case 401 -> where + " refused the API's log request: " + msg
                            + " (its --logs-key-file must be `intent-api --logs-host-key " + t.host() + "`)";
                    default -> where + " answered " + resp.statusCode() + ": " + msg;
                };
                return new Source(t, req, null, problem);
            });
        })).recover(e -> Future.succeededFuture(new Source(t, null, null, where + " unreachable: "
                + e.getMessage())));
    }

    private static String errorOf(Buffer body) {
        try {
            Map<?, ?> m = io.intent.store.codec.Json.read(body.getBytes(), Map.class);
            Object e = m.get("error");
            return e == null ? body.toString() : e.toString();
        } catch (Exception e) {
            return body.toString();
        }
    }
}
