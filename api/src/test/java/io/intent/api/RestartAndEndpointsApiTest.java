package io.intent.api;

import static io.intent.api.ApiFixture.OPERATOR;
import static io.intent.api.ApiFixture.VIEWER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Endpoint;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code POST /v1/apps/{name}/restart} and {@code GET /v1/endpoints/{app}} against a real etcd. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RestartAndEndpointsApiTest {
    ApiFixture f;

    @BeforeAll
    void start() throws Exception {
        f = new ApiFixture();
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        return Json.tree(r.body().getBytes(StandardCharsets.UTF_8));
    }

    AppIntent stored(String app) {
        return f.store.get(f.store.keys().app(app), AppIntent.class).orElseThrow().value();
    }

    long revision(String app) {
        return f.store.get(f.store.keys().app(app), AppIntent.class).orElseThrow().modRevision();
    }

    @Test
    void restartRaisesTheGenerationOfEveryInstanceOrOfOneHostAndChangesNothingElse() throws Exception {
        assertEquals(201, f.put("/v1/apps/rs", OPERATOR, Fixtures.app("1.0", 3)).statusCode());
        AppIntent before = stored("rs");
        assertNull(before.restart());

        var all = f.post("/v1/apps/rs/restart", OPERATOR, "");
        assertEquals(200, all.statusCode(), all.body());
        assertEquals(revision("rs"), json(all).get("revision").asLong());
        assertEquals("\"" + revision("rs") + "\"", all.headers().firstValue("ETag").orElseThrow());
        assertEquals(1L, stored("rs").restart().generation());
        assertEquals(1, stored("rs").restart().generationFor("h1"));

        var one = f.post("/v1/apps/rs/restart", OPERATOR, "{\"host\":\"h2\"}");
        assertEquals(200, one.statusCode(), one.body());
        assertEquals("h2", json(one).get("host").asText());
        AppIntent after = stored("rs");
        assertEquals(1L, after.restart().generation(), "a host's restart leaves the app's generation alone");
        assertEquals(2, after.restart().generationFor("h2"));
        assertEquals(1, after.restart().generationFor("h1"), "other hosts are not restarted");
        // only the restart block changed: version, scale, run are as they were
        assertEquals(before.active(), after.active());
        assertEquals(before.scale(), after.scale());
        assertEquals(before.run(), after.run());
        assertEquals(before.versions(), after.versions());
    }

    @Test
    void restartOfAnUnknownAppIs404AViewerGets403AndABadHostName400() throws Exception {
        var missing = f.post("/v1/apps/nosuch-restart/restart", OPERATOR, "");
        assertEquals(404, missing.statusCode(), missing.body());
        assertEquals("not_found", json(missing).get("error").get("code").asText());
        assertTrue(f.store.get(f.store.keys().app("nosuch-restart"), AppIntent.class).isEmpty(), "nothing made");

        assertEquals(201, f.put("/v1/apps/rs-auth", OPERATOR, Fixtures.app("1.0", 1)).statusCode());
        long rev = revision("rs-auth");
        var viewer = f.post("/v1/apps/rs-auth/restart", VIEWER, "");
        assertEquals(403, viewer.statusCode(), viewer.body());
        assertEquals("forbidden", json(viewer).get("error").get("code").asText());
        var bad = f.post("/v1/apps/rs-auth/restart", OPERATOR, "{\"host\":\"Not A Host!\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals(rev, revision("rs-auth"), "refused restarts write nothing");
        assertNull(stored("rs-auth").restart());
    }

    private void instance(String host, boolean live, String app, String endpointVersion, Phase phase,
                          String statusVersion) {
        var keys = f.store.keys();
        if (live) {
            f.store.put(keys.live(host), new Liveness(host, "127.0.0.9", "test", 1, Instant.now()));
        }
        f.store.put(keys.endpoint(app, host), new Endpoint(app, host, "127.0.0.9", endpointVersion,
                Map.of("http", 8080), Instant.now()));
        f.store.put(keys.status(host, app, "setlive"), new AgentStatus("setlive", phase, statusVersion, 1, null, 0,
                Instant.now(), null, Map.of()));
    }

    @Test
    void endpointsListOnlyTheLiveHealthyInstancesOfTheApp() throws Exception {
        assertEquals(201, f.put("/v1/apps/ep", OPERATOR, Fixtures.app("1.0", 4)).statusCode());
        instance("ep-ok", true, "ep", "1.0", Phase.READY, "1.0");
        instance("ep-dead", false, "ep", "1.0", Phase.READY, "1.0");
        instance("ep-starting", true, "ep", "1.0", Phase.PROGRESSING, "1.0");
        instance("ep-stale", true, "ep", "0.9", Phase.READY, "1.0");
        instance("ep-ok", true, "ep-other", "1.0", Phase.READY, "1.0");

        var r = f.get("/v1/endpoints/ep", VIEWER);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals("ep", body.get("app").asText());
        assertTrue(body.get("revision").asLong() > 0, r.body());
        List<String> hosts = new ArrayList<>();
        body.get("endpoints").forEach(e -> hosts.add(e.get("host").asText()));
        assertEquals(List.of("ep-ok"), hosts, r.body());
        JsonNode e = body.get("endpoints").get(0);
        assertEquals("127.0.0.9", e.get("address").asText());
        assertEquals("1.0", e.get("version").asText());
        assertEquals(8080, e.get("ports").get("http").asInt());

        // the instance starts failing its health check: setlive says so and it is no endpoint any more
        instance("ep-ok", true, "ep", "1.0", Phase.FAILED, "1.0");
        assertEquals(0, json(f.get("/v1/endpoints/ep", VIEWER)).get("endpoints").size());
    }

    @Test
    void endpointsOfAnUnknownAppAre404AndOfAnAppWithoutInstancesAnEmptyList() throws Exception {
        var r = f.get("/v1/endpoints/nosuch-ep", VIEWER);
        assertEquals(404, r.statusCode(), r.body());
        assertEquals("not_found", json(r).get("error").get("code").asText());
        assertTrue(json(r).get("error").get("message").asText().contains("nosuch-ep"), r.body());

        assertEquals(201, f.put("/v1/apps/ep-none", OPERATOR, Fixtures.app("1.0", 1)).statusCode());
        var none = f.get("/v1/endpoints/ep-none", VIEWER);
        assertEquals(200, none.statusCode(), none.body());
        assertEquals(0, json(none).get("endpoints").size());
        assertEquals(400, f.get("/v1/endpoints/Bad%20Name", VIEWER).statusCode());
        assertEquals(401, f.get("/v1/endpoints/ep-none", null).statusCode());
    }
}
