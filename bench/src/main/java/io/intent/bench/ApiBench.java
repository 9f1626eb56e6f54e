package io.intent.bench;

import io.intent.api.ApiServer;
import io.intent.api.Role;
import io.intent.api.Tokens;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AppIntent;
import io.intent.testkit.EtcdCluster;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded loopback load on the API: N concurrent clients (java.net.http, HTTP/1.1, keep-alive) reading
 * {@code GET /v1/apps/<name>} with a bearer token for a fixed time; every request is a real etcd read on a worker
 * thread. The limit is the same client, concurrency and duration against a trivial Vert.x endpoint answering a
 * constant, measured in the same run: what HTTP on this machine allows before any API work.
 */
public final class ApiBench implements Benchmark {
    static final String TOKEN = "bench-viewer-token";

    @Override
    public String describe() {
        return "API GET /v1/apps/<name> requests/s and p99 under N concurrent clients vs a constant Vert.x endpoint";
    }

    /** What one load run measured. */
    record Load(long requests, long errors, double seconds, Stats latency) {
        double perSecond() {
            return requests / seconds;
        }
    }

    @Override
    public void run(Report r, String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            Tokens tokens = new Tokens(Map.of(Tokens.hash(TOKEN), new Tokens.Token("bench", Role.VIEWER, "bench")));
            String app = "{\"versions\":{\"1.0\":{\"artifact\":\"file:///srv/a.tgz\",\"sha256\":\"" + "a".repeat(64)
                    + "\"}},\"active\":\"1.0\",\"run\":{\"command\":[\"bin/run\"]},\"ports\":[{\"name\":\"http\","
                    + "\"port\":8080}],\"scale\":3}";
            for (int i = 0; i < 20; i++) {
                store.put(store.keys().app("app-" + i), Json.read(app, AppIntent.class));
            }
            ApiServer api = ApiServer.start(store, tokens, ApiServer.Options.defaults().withPort(0));
            Vertx vertx = Vertx.vertx();
            try {
                HttpServer constant = vertx.createHttpServer().requestHandler(req -> req.response()
                        .putHeader("content-type", "application/json").end(app))
                        .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
                String apiUrl = api.url() + "/v1/apps/app-";
                String limitUrl = "http://127.0.0.1:" + constant.actualPort() + "/v1/apps/app-";

                r.header(clients + " concurrent clients, " + seconds + " s each, loopback, HTTP/1.1 keep-alive");
                load(http, apiUrl, clients, 2);
                Load a = load(http, apiUrl, clients, seconds);
                load(http, limitUrl, clients, 2);
                Load c = load(http, limitUrl, clients, seconds);
                Load e = etcdGets(store, clients, seconds);
                // both at once: on a small machine HTTP and gRPC compete for the same cores
                ExecutorService side = Executors.newSingleThreadExecutor();
                Future<Load> httpSide = side.submit(() -> load(http, limitUrl, clients, seconds));
                Load both = etcdGets(store, clients, seconds);
                Load httpBoth = httpSide.get();
                side.shutdown();

                r.row("API GET /v1/apps/<name>: requests/s", a.perSecond(), "req/s", "n=" + a.requests());
                r.row("API p50", a.latency().p50(), "ms", "");
                r.row("API p99", a.latency().p99(), "ms", "");
                r.row("API errors", a.errors(), "", "non-2xx or I/O failures");
                r.row("limit: constant Vert.x endpoint, requests/s", c.perSecond(), "req/s", "n=" + c.requests());
                r.row("limit: p50", c.latency().p50(), "ms", "");
                r.row("limit: p99", c.latency().p99(), "ms", "");
                r.row("limit: errors", c.errors(), "", "");
                r.row("context: raw EtcdStore.get, requests/s", e.perSecond(), "req/s", "same concurrency, no HTTP");
                r.row("context: raw EtcdStore.get p99", e.latency().p99(), "ms", "");
                r.row("context: raw get while constant HTTP load runs", both.perSecond(), "req/s",
                        "HTTP meanwhile " + Report.fmt(httpBoth.perSecond()) + " req/s");
                r.row("machine load average (1 min) at the end", loadAverage(), "", "2 cores; shared machine");

                r.result("api.requests_per_s", a.perSecond(), "req/s", c.perSecond());
                r.result("api.p99_ms", a.latency().p99(), "ms", c.latency().p99());
                r.result("api.errors", a.errors(), "count", 0);
                r.finish();
            } finally {
                api.close();
                vertx.close().await(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The same shape of load straight on the store: what one API read costs in etcd, for context. */
    static Load etcdGets(EtcdStore store, int clients, int seconds) throws Exception {
        return measure(clients, seconds, i -> {
            store.get(store.keys().app("app-" + (i % 20)), AppIntent.class);
            return true;
        });
    }

    static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** {@code clients} threads, each sending requests back to back for {@code seconds}. */
    static Load load(HttpClient http, String urlPrefix, int clients, int seconds) throws Exception {
        return measure(clients, seconds, i -> {
            HttpRequest req = HttpRequest.newBuilder(URI.create(urlPrefix + (i % 20)))
                    .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10)).GET().build();
            return http.send(req, HttpResponse.BodyHandlers.ofByteArray()).statusCode() == 200;
        });
    }

    /** One operation of a load: true when it succeeded. */
    @FunctionalInterface
    interface Operation {
        boolean run(int i) throws Exception;
    }

    /** Runs {@code op} back to back on {@code clients} threads for {@code seconds}, timing each call. */
    static Load measure(int clients, int seconds, Operation op) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicLong errors = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long start = System.nanoTime();
        List<Future<long[]>> futures = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            int id = t;
            futures.add(pool.submit(() -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                int i = id;
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        if (!op.run(i++)) {
                            errors.incrementAndGet();
                        }
                    } catch (java.io.IOException | RuntimeException e) {
                        errors.incrementAndGet();
                    }
                    if (n == lat.length) {
                        lat = java.util.Arrays.copyOf(lat, n * 2);
                    }
                    lat[n++] = System.nanoTime() - t0;
                }
                return java.util.Arrays.copyOf(lat, n);
            }));
        }
        return collect(pool, futures, errors, start);
    }

    private static Load collect(ExecutorService pool, List<Future<long[]>> futures, AtomicLong errors, long start)
            throws Exception {
        List<long[]> all = new ArrayList<>();
        for (var f : futures) {
            all.add(f.get());
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        int total = all.stream().mapToInt(x -> x.length).sum();
        long[] merged = new long[total];
        int pos = 0;
        for (long[] x : all) {
            System.arraycopy(x, 0, merged, pos, x.length);
            pos += x.length;
        }
        return new Load(total, errors.get(), elapsed, new Stats(merged));
    }
}
