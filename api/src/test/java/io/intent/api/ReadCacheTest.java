package io.intent.api;

import static io.intent.api.ApiFixture.OPERATOR;
import static io.intent.api.ApiFixture.VIEWER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import io.intent.store.model.AppIntent;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Reads come from the watch-fed cache: read-your-writes, consistent reads, revisions and paging. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadCacheTest {
    private ApiFixture f;

    @BeforeAll
    void start() throws Exception {
        f = new ApiFixture(List.of("setlive"));
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    static long revisionHeader(HttpResponse<String> r) {
        return Long.parseLong(r.headers().firstValue("X-Intent-Revision").orElseThrow(
                () -> new AssertionError("no X-Intent-Revision header: " + r.headers())));
    }

    static String source(HttpResponse<String> r) {
        return r.headers().firstValue("X-Intent-Source").orElse("(none)");
    }

    @Test
    void aReadRightAfterAWriteThroughTheApiSeesThatWrite() throws Exception {
        for (int scale = 1; scale <= 30; scale++) {
            var put = f.put("/v1/apps/ryw", OPERATOR, Fixtures.app("1.0", scale));
            assertTrue(put.statusCode() == 200 || put.statusCode() == 201, put.body());
            long written = Long.parseLong(put.headers().firstValue("ETag").orElseThrow().replace("\"", ""));

            var get = f.get("/v1/apps/ryw", VIEWER);
            assertEquals(200, get.statusCode(), get.body());
            assertEquals(scale, ApiTest.json(get).get("intent").get("scale").asInt(), "GET right after PUT");
            assertEquals("cache", source(get));
            assertTrue(revisionHeader(get) >= written, "the answer reflects a revision at or after the write");

            var status = f.get("/v1/status/apps/ryw", VIEWER);
            assertEquals(scale, ApiTest.json(status).get("wanted").asInt(), status.body());
            var all = ApiTest.json(f.get("/v1/status", VIEWER));
            assertTrue(all.get("revision").asLong() >= written, "the full status is never older than a write");
            assertTrue(all.toString().contains("\"wanted\":" + scale), all.toString());
        }
        assertEquals(200, f.delete("/v1/apps/ryw", OPERATOR).statusCode());
        assertEquals(404, f.get("/v1/apps/ryw", VIEWER).statusCode(), "a delete is read back at once too");
    }

    @Test
    void everyReadSaysTheRevisionItReflectsAndAWriteOutsideTheApiArrivesWithinTheWatchDelay() throws Exception {
        var list = f.get("/v1/apps", VIEWER);
        assertEquals(revisionHeader(list), ApiTest.json(list).get("revision").asLong(),
                "header and body name the same revision");
        long rev = f.store.put(f.store.keys().app("outside"), Json.read(Fixtures.app("1.0", 2), AppIntent.class));
        await().atMost(Duration.ofSeconds(5)).until(() -> f.get("/v1/apps/outside", VIEWER).statusCode() == 200);
        var one = f.get("/v1/apps/outside", VIEWER);
        assertTrue(revisionHeader(one) >= rev);
        assertEquals("\"" + rev + "\"", one.headers().firstValue("ETag").orElseThrow());
        for (String path : List.of("/v1/hosts", "/v1/status", "/v1/status/hosts", "/v1/assignments",
                "/v1/placements")) {
            // the status lists may answer from the snapshot whose status was computed last, while a newer one is
            // computed in the background: later by one computation, never older than the API's own writes
            await().atMost(Duration.ofSeconds(5)).until(() -> revisionHeader(f.get(path, VIEWER)) >= rev);
            var r = f.get(path, VIEWER);
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            assertEquals(revisionHeader(r), ApiTest.json(r).get("revision").asLong(), path);
        }
    }

    @Test
    void aConsistentReadGoesToEtcdAndSeesAWriteMadeBehindTheApisBack() throws Exception {
        for (int i = 0; i < 10; i++) {
            long rev = f.store.put(f.store.keys().app("behind"), Json.read(Fixtures.app("1.0", i + 1),
                    AppIntent.class));
            var r = f.get("/v1/apps/behind?consistent=true", VIEWER);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("etcd", source(r));
            assertTrue(revisionHeader(r) >= rev);
            assertEquals(i + 1, ApiTest.json(r).get("intent").get("scale").asInt());
            var s = f.get("/v1/status?consistent=true", VIEWER);
            assertEquals("etcd", source(s));
            assertTrue(ApiTest.json(s).get("revision").asLong() >= rev);
        }
        ApiTest.assertError(f.get("/v1/apps?consistent=maybe", VIEWER), 400, "bad_request");
    }

    @Test
    void pagesHoldEveryItemExactlyOnceAllAtTheRevisionOfTheFirstPage() throws Exception {
        String root = f.store.keys().root();
        f.store.deletePrefix(root + "/");
        ConvergedFleet.write(f.store, 23, 17, 3, List.of("setlive"));
        awaitStatusAt(f.store.revision());
        Set<String> apps = new HashSet<>();
        Set<String> hosts = new HashSet<>();
        long revision = -1;
        String next = null;
        int pages = 0;
        do {
            var r = f.get("/v1/status?limit=7" + (next == null ? "" : "&continue=" + enc(next)), VIEWER);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode body = ApiTest.json(r);
            if (revision < 0) {
                revision = body.get("revision").asLong();
                // a change after the first page must not show up in the later ones
                f.store.put(f.store.keys().app("zzz-late"), Json.read(Fixtures.app("1.0", 1), AppIntent.class));
            }
            assertEquals(revision, body.get("revision").asLong(), "every page is cut from one snapshot");
            assertEquals(revision, revisionHeader(r));
            int items = body.get("apps").size() + body.get("hosts").size();
            assertTrue(items <= 7, "a page holds at most limit items");
            body.get("apps").forEach(a -> assertTrue(apps.add(a.get("app").asText()), "twice: " + a.get("app")));
            body.get("hosts").forEach(h -> assertTrue(hosts.add(h.get("host").asText()), "twice: " + h.get("host")));
            next = body.has("continue") ? body.get("continue").asText() : null;
            pages++;
        } while (next != null);
        assertEquals(23, apps.size());
        assertFalse(apps.contains("zzz-late"));
        assertEquals(17, hosts.size());
        assertEquals((23 + 17 + 6) / 7, pages);

        Set<String> assigned = new HashSet<>();
        next = null;
        do {
            var r = f.get("/v1/assignments?limit=10" + (next == null ? "" : "&continue=" + enc(next)), VIEWER);
            JsonNode body = ApiTest.json(r);
            body.get("assignments").forEach(a -> assertTrue(assigned.add(a.get("key").asText()), "twice: " + a));
            next = body.has("continue") ? body.get("continue").asText() : null;
        } while (next != null);
        assertEquals(23 * 3, assigned.size());

        ApiTest.assertError(f.get("/v1/status?continue=bm9wZQ", VIEWER), 400, "bad_request");
        ApiTest.assertError(f.get("/v1/status?limit=0", VIEWER), 400, "bad_request");
        f.store.deletePrefix(root + "/");
    }

    @Test
    void theStatusOfTenThousandInstancesOnAThousandHostsAnswersPageByPage() throws Exception {
        String root = f.store.keys().root();
        f.store.deletePrefix(root + "/");
        long t0 = System.nanoTime();
        int keys = ConvergedFleet.write(f.store, 1000, 1000, 10, List.of("setlive"));
        System.out.printf("wrote %d keys in %d ms%n", keys, (System.nanoTime() - t0) / 1_000_000);
        // the API's watch folds them in within the watch delay; etcd itself can no longer return them in one range
        awaitStatusAt(f.store.revision());

        List<Long> pageMillis = new ArrayList<>();
        int apps = 0;
        int hosts = 0;
        String next = null;
        do {
            long s = System.nanoTime();
            var r = f.get("/v1/status" + (next == null ? "" : "?continue=" + enc(next)), VIEWER);
            pageMillis.add((System.nanoTime() - s) / 1_000_000);
            assertEquals(200, r.statusCode(), () -> r.body().substring(0, Math.min(500, r.body().length())));
            JsonNode body = ApiTest.json(r);
            assertTrue(body.get("converged").asBoolean());
            apps += body.get("apps").size();
            hosts += body.get("hosts").size();
            next = body.has("continue") ? body.get("continue").asText() : null;
        } while (next != null);
        System.out.println("GET /v1/status pages of 100 at 10,000 instances took (ms): " + pageMillis);
        assertEquals(1000, apps);
        assertEquals(1000, hosts);
        // the goal, 200 ms p99 per page, is measured by `./intent bench api` under a stream of status writes; this
        // first, cold walk (every page encoded for the first time) runs beside the rest of the suite on 2 shared
        // cores (medians of 10-230 ms seen at load averages 5-60), so it holds a bound that load cannot break and
        // a slow path (a read of etcd, a recomputation per page: seconds) cannot meet
        long median = pageMillis.stream().sorted().toList().get(pageMillis.size() / 2);
        assertTrue(median <= 500, "median page " + median + " ms: " + pageMillis);
        assertTrue(pageMillis.stream().mapToLong(Long::longValue).max().orElseThrow() < 3000, pageMillis.toString());

        int assignments = 0;
        next = null;
        do {
            var r = f.get("/v1/assignments?limit=5000" + (next == null ? "" : "&continue=" + enc(next)), VIEWER);
            assertEquals(200, r.statusCode());
            JsonNode body = ApiTest.json(r);
            assignments += body.get("assignments").size();
            next = body.has("continue") ? body.get("continue").asText() : null;
        } while (next != null);
        assertEquals(10_000, assignments);

        var consistent = f.get("/v1/status?consistent=true", VIEWER);
        assertEquals(200, consistent.statusCode(), "a consistent read pages through etcd: no 4 MiB failure");
        assertEquals("etcd", source(consistent));
        f.store.deletePrefix(root + "/");
    }

    /** Written behind the API's back: wait for the watch (and the status computed at that revision). */
    private void awaitStatusAt(long revision) {
        await().atMost(Duration.ofSeconds(60)).until(() -> revisionHeader(f.get("/v1/status?limit=1", VIEWER))
                >= revision);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
