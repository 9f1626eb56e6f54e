package io.intent.bench;

import io.intent.api.ApiServer;
import io.intent.api.ConvergedFleet;
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
 * {@code GET /v1/apps/<name>} with a bearer token for a fixed time; every request is answered from the API's
 * watch-fed cache on a worker thread. The limit is the same client, concurrency and duration against a trivial
 * Vert.x endpoint answering a constant, measured in the same run: what HTTP on this machine allows before any API
 * work.
 *
 * <p>Then at scale: 10,000 instances of 1,000 apps on 1,000 hosts (44,000 keys) written to etcd, and 4 clients
 * each walking every page of {@code GET /v1/status} while one writer changes an agent status every 50 ms (so the
 * status is recomputed at new revisions, as in a live fleet). Its limit is the same pages' bytes served by the
 * constant endpoint at the same concurrency: the transfer alone, with no status work.
 */
// Long (about 350 lines): two measurements (per-app GETs under concurrency, the status document at 10,000
// instances), each with its constant-endpoint limit and the load loop they share.
public final class ApiBench implements Benchmark {
    static final String TOKEN = "bench-viewer-token";

    /** A valid app intent of {@code scale} instances. */
    static String appJson(int scale) {
        return "{\"versions\":{\"1.0\":{\"artifact\":\"file:///srv/a.tgz\",\"sha256\":\"" + "a".repeat(64)
                + "\"}},\"active\":\"1.0\",\"run\":{\"command\":[\"bin/run\"]},\"ports\":[{\"name\":\"http\","
                + "\"port\":8080}],\"scale\":" + scale + "}";
    }

    @Override
    public String describe() {
        return "API GET /v1/apps/<name> requests/s and p99 under N concurrent clients vs a constant Vert.x endpoint; "
                + "GET /v1/status at 10,000 instances vs the same bytes from a constant endpoint";
    }

    /** What one load run measured. */
    record Load(long requests, long errors, double seconds, Stats latency) {
        double perSecond() {
            return requests / seconds;
        }
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            Tokens tokens = new Tokens(Map.of(Tokens.hash(TOKEN), new Tokens.Token("bench", Role.VIEWER, "bench")));
            String app = appJson(3);
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
                // warm both up first (the JIT compiles for seconds on 2 cores): the first measured run must not
                // pay for compiling code the second then reuses
                load(http, apiUrl, clients, 6);
                load(http, limitUrl, clients, 3);
                Load a = load(http, apiUrl, clients, seconds);
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

                Scale s = atScale(r, http, store, api, vertx, seconds);

                r.result("api.requests_per_s", a.perSecond(), "req/s", c.perSecond());
                r.result("api.p99_ms", a.latency().p99(), "ms", c.latency().p99());
                r.result("api.errors", a.errors(), "count", 0);
                r.result("api.status_10k_p99_ms", s.api().latency().p99(), "ms", s.limit().latency().p99());
                r.result("api.status_10k_errors", s.api().errors(), "count", 0);
                r.finish();
            } finally {
                api.close();
                vertx.close().await(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The status walk at scale and its limit. */
    record Scale(Load api, Load limit) {
    }

    static final int SCALE_CLIENTS = 4;

    /** Writes 10,000 instances and walks {@code GET /v1/status} page by page under a trickle of status writes. */
    static Scale atScale(Report r, HttpClient http, EtcdStore store, ApiServer api, Vertx vertx, int seconds)
            throws Exception {
        long t0 = System.nanoTime();
        int keys = ConvergedFleet.write(store, 1000, 1000, 10, List.of("preparer", "iptables", "setlive"));
        double writeSeconds = (System.nanoTime() - t0) / 1e9;
        long last = store.revision();
        long waitStart = System.nanoTime();
        while (revisionOf(http, api.url() + "/v1/apps") < last) {
            Thread.sleep(20);
        }
        double caughtUpMs = (System.nanoTime() - waitStart) / 1e6;
        // the pages' bytes, for the limit: the same transfer with no status work
        List<byte[]> pages = new ArrayList<>();
        String next = null;
        do {
            var resp = http.send(get(api.url() + "/v1/status" + (next == null ? "" : "?continue=" + next)),
                    HttpResponse.BodyHandlers.ofByteArray());
            pages.add(resp.body());
            var body = Json.tree(resp.body());
            next = body.has("continue") ? body.get("continue").asText() : null;
        } while (next != null);
        HttpServer constant = vertx.createHttpServer().requestHandler(req -> {
            String q = req.getParam("page");
            req.response().putHeader("content-type", "application/json")
                    .end(io.vertx.core.buffer.Buffer.buffer(pages.get(q == null ? 0 : Integer.parseInt(q))));
        }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);

        java.util.concurrent.atomic.AtomicBoolean churn = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            var k = store.keys();
            int i = 0;
            while (churn.get()) {
                // app a's first instance is on host (a * 10) mod 1000 (ConvergedFleet's spread)
                String a = ConvergedFleet.app(i % 1000);
                String h = ConvergedFleet.host((i % 1000) * 10 % 1000);
                try {
                    var e = store.get(k.status(h, a, "setlive"), io.intent.store.model.AgentStatus.class);
                    if (e.isPresent()) {
                        store.put(k.status(h, a, "setlive"), e.get().value());
                    }
                    Thread.sleep(50);
                } catch (InterruptedException ex) {
                    return;
                } catch (RuntimeException ex) {
                    // keep churning
                }
                i++;
            }
        }, "status-churn");
        writer.start();
        Load walk;
        Load limit;
        long gcBefore;
        long gcDuring;
        try {
            Operation walkPages = new Operation() {
                final ThreadLocal<String> cont = new ThreadLocal<>();

                @Override
                public boolean run(int i) throws Exception {
                    String c = cont.get();
                    var resp = http.send(get(api.url() + "/v1/status" + (c == null ? "" : "?continue=" + c)),
                            HttpResponse.BodyHandlers.ofByteArray());
                    // not a full JSON parse: the limit run does not parse either, and both share this JVM
                    cont.set(continueOf(resp.body()));
                    return resp.statusCode() == 200;
                }
            };
            measure(SCALE_CLIENTS, 4, walkPages); // warm-up, not counted
            gcBefore = gcMillis();
            walk = measure(SCALE_CLIENTS, seconds, walkPages);
            gcDuring = gcMillis() - gcBefore;
            limit = measure(SCALE_CLIENTS, seconds, i -> http.send(get("http://127.0.0.1:" + constant.actualPort()
                    + "/?page=" + (i % pages.size())), HttpResponse.BodyHandlers.ofByteArray()).statusCode() == 200);
        } finally {
            churn.set(false);
            writer.join();
        }
        Load etcdRead = measure(1, Math.max(3, seconds / 2), i -> {
            new io.intent.api.status.ObservedReader(store).read();
            return true;
        });
        long bytes = pages.stream().mapToLong(p -> p.length).sum();

        r.header("at scale: 1,000 apps x 10 instances on 1,000 hosts (" + keys + " keys), " + SCALE_CLIENTS
                + " clients walking GET /v1/status pages, one status write every 50 ms");
        r.row("wrote the fleet (batched transactions)", writeSeconds, "s", keys + " keys");
        r.row("API cache caught up after the last write", caughtUpMs, "ms", "");
        r.row("status pages (default limit 100 items)", pages.size(), "", bytes / 1024 + " KiB in all");
        r.row("API GET /v1/status page: p50", walk.latency().p50(), "ms", "n=" + walk.requests());
        r.row("API GET /v1/status page: p99", walk.latency().p99(), "ms", "");
        r.row("API errors", walk.errors(), "", "");
        r.row("GC pause time during the walk (whole JVM)", gcDuring, "ms", "API, clients and etcd client share it");
        r.row("heap used after a full GC", heapAfterGcMb(), "MB", "the fleet in the API's cache, and the bench's");
        r.row("limit: same bytes from a constant endpoint p99", limit.latency().p99(), "ms",
                "n=" + limit.requests());
        r.row("context: one paged etcd read of the six prefixes", etcdRead.latency().p50(), "ms",
                "p50, no HTTP, no status model; what ?consistent=true pays");
        return new Scale(walk, limit);
    }

    /** The {@code continue} token of a status page: its last field, so found from the end. */
    static String continueOf(byte[] body) {
        String tail = new String(body, Math.max(0, body.length - 512), Math.min(512, body.length),
                java.nio.charset.StandardCharsets.UTF_8);
        int at = tail.lastIndexOf("\"continue\":\"");
        if (at < 0) {
            return null;
        }
        int from = at + "\"continue\":\"".length();
        return tail.substring(from, tail.indexOf('"', from));
    }

    static long gcMillis() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
    }

    static long heapAfterGcMb() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
    }

    static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(30)).GET().build();
    }

    static long revisionOf(HttpClient http, String url) throws Exception {
        var resp = http.send(get(url), HttpResponse.BodyHandlers.discarding());
        return resp.headers().firstValue("X-Intent-Revision").map(Long::parseLong).orElse(-1L);
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
