package io.intent.api;

import static io.intent.api.ApiFixture.ADMIN;
import static io.intent.api.ApiFixture.OPERATOR;
import static io.intent.api.ApiFixture.VIEWER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Placement;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every /v1 endpoint and error against a real etcd, checking the effect in etcd. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiTest {
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

    static void assertError(HttpResponse<String> r, int status, String code) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = json(r).get("error");
        assertNotNull(e, r.body());
        assertEquals(code, e.get("code").asText(), r.body());
        assertFalse(e.get("message").asText().isBlank());
        assertTrue(e.get("details").isArray());
        assertEquals(r.headers().firstValue("X-Request-Id").orElseThrow(), e.get("requestId").asText());
    }

    AppIntent stored(String app) {
        return f.store.get(f.store.keys().app(app), AppIntent.class).orElseThrow().value();
    }

    @Test
    void anAppCanBeCreatedReadListedUpdatedAndDeleted() throws Exception {
        var created = f.put("/v1/apps/crud", OPERATOR, Fixtures.app("1.0", 1));
        assertEquals(201, created.statusCode(), created.body());
        assertEquals("1.0", stored("crud").active());
        long rev = f.store.get(f.store.keys().app("crud"), AppIntent.class).orElseThrow().modRevision();
        assertEquals("\"" + rev + "\"", created.headers().firstValue("ETag").orElseThrow());

        var got = f.get("/v1/apps/crud", VIEWER);
        assertEquals(200, got.statusCode());
        assertEquals("\"" + rev + "\"", got.headers().firstValue("ETag").orElseThrow());
        assertEquals("1.0", json(got).get("intent").get("active").asText());

        var list = f.get("/v1/apps", VIEWER);
        assertTrue(list.body().contains("\"name\":\"crud\""), list.body());

        var updated = f.put("/v1/apps/crud", OPERATOR, Fixtures.app("2.0", 1));
        assertEquals(200, updated.statusCode());
        assertEquals("2.0", stored("crud").active());

        var deleted = f.delete("/v1/apps/crud", OPERATOR);
        assertEquals(200, deleted.statusCode());
        assertTrue(f.store.get(f.store.keys().app("crud"), AppIntent.class).isEmpty());
        assertError(f.get("/v1/apps/crud", VIEWER), 404, "not_found");
        assertError(f.delete("/v1/apps/crud", OPERATOR), 404, "not_found");
    }

    @Test
    void aStaleIfMatchIsRefusedWith412AndWritesNothing() throws Exception {
        var first = f.put("/v1/apps/cas", OPERATOR, Fixtures.app("1.0", 1));
        String etag = first.headers().firstValue("ETag").orElseThrow();
        var second = f.put("/v1/apps/cas", OPERATOR, Fixtures.app("2.0", 1), "If-Match", etag);
        assertEquals(200, second.statusCode(), second.body());
        assertError(f.put("/v1/apps/cas", OPERATOR, Fixtures.app("1.0", 3), "If-Match", etag), 412,
                "precondition_failed");
        assertEquals("2.0", stored("cas").active());
        assertEquals(1, stored("cas").scale());
        assertError(f.delete("/v1/apps/cas", OPERATOR, "If-Match", etag), 412, "precondition_failed");
        assertError(f.put("/v1/apps/cas", OPERATOR, Fixtures.app("1.0", 1), "If-None-Match", "*"), 412,
                "precondition_failed");
        assertError(f.put("/v1/apps/cas", OPERATOR, Fixtures.app("1.0", 1), "If-Match", "yesterday"), 400,
                "bad_request");
        var ok = f.delete("/v1/apps/cas", OPERATOR, "If-Match", second.headers().firstValue("ETag").orElseThrow());
        assertEquals(200, ok.statusCode());
        assertTrue(f.store.get(f.store.keys().app("cas"), AppIntent.class).isEmpty());
    }

    @Test
    void anInvalidIntentGets400ListingEveryFieldError() throws Exception {
        String bad = "{\"versions\":{\"1.0\":{\"artifact\":\"ftp://x\",\"sha256\":\"nothex\"}},\"active\":\"9.9\","
                + "\"ports\":[{\"name\":\"http\",\"port\":70000}],\"scale\":-1}";
        var r = f.put("/v1/apps/bad", OPERATOR, bad);
        assertError(r, 400, "invalid_intent");
        JsonNode details = json(r).get("error").get("details");
        assertTrue(details.size() >= 4, r.body());
        String fields = details.toString();
        for (String field : List.of("active", "ports[0].port", "scale")) {
            assertTrue(fields.contains("\"field\":\"" + field + "\""), field + " missing in " + fields);
        }
        assertTrue(f.store.get(f.store.keys().app("bad"), AppIntent.class).isEmpty());
    }

    @Test
    void malformedAndHostileBodiesGetAClear400() throws Exception {
        assertError(f.put("/v1/apps/mal", OPERATOR, "{\"versions\": "), 400, "invalid_body");
        var unknown = f.put("/v1/apps/mal", OPERATOR, "{\"scale\": 1, \"sclae\": 2}");
        assertError(unknown, 400, "invalid_body");
        assertTrue(json(unknown).get("error").get("message").asText().contains("sclae"));
        assertError(f.put("/v1/apps/mal", OPERATOR, "null"), 400, "invalid_body");
        assertError(f.put("/v1/apps/mal", OPERATOR, "[1,2,3]"), 400, "invalid_body");
        assertError(f.put("/v1/apps/mal", OPERATOR, "{\"scale\": \"three\"}"), 400, "invalid_body");
        assertError(f.put("/v1/apps/mal", OPERATOR, "[".repeat(5000)), 400, "invalid_body");
        assertError(f.put("/v1/apps/mal", OPERATOR, ""), 400, "bad_request");
        assertError(f.put("/v1/apps/Not_A..Name", OPERATOR, Fixtures.app("1.0", 1)), 400, "invalid_name");
        assertError(f.get("/v1/apps/UPPER", VIEWER), 400, "invalid_name");
        var dots = f.put("/v1/apps/%2e%2e", OPERATOR, Fixtures.app("1.0", 1));
        assertTrue(dots.statusCode() == 400 || dots.statusCode() == 404, dots.body());
        assertEquals(0, f.store.count(f.store.keys().root() + "/apps/.."));
        assertTrue(f.store.get(f.store.keys().app("mal"), AppIntent.class).isEmpty());
        // the API still serves other requests
        assertEquals(200, f.get("/v1/apps", VIEWER).statusCode());
    }

    @Test
    void aBodyOverTheLimitGets413AndWritesNothing() throws Exception {
        String huge = "{\"run\":{\"env\":{\"X\":\"" + "x".repeat(300 * 1024) + "\"}}}";
        assertError(f.put("/v1/apps/huge", OPERATOR, huge), 413, "payload_too_large");
        assertTrue(f.store.get(f.store.keys().app("huge"), AppIntent.class).isEmpty());
        assertEquals(200, f.get("/v1/apps", VIEWER).statusCode());
    }

    @Test
    void aBodyThatIsNotJsonGets415() throws Exception {
        var r = f.http.send(f.request("/v1/apps/ct", OPERATOR).header("Content-Type", "text/plain")
                .PUT(HttpRequest.BodyPublishers.ofString(Fixtures.app("1.0", 1))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(r, 415, "unsupported_media_type");
        var none = f.http.send(f.request("/v1/apps/ct", OPERATOR)
                .PUT(HttpRequest.BodyPublishers.ofString(Fixtures.app("1.0", 1))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(none, 415, "unsupported_media_type");
        assertTrue(f.store.get(f.store.keys().app("ct"), AppIntent.class).isEmpty());
        var charset = f.http.send(f.request("/v1/apps/ct", OPERATOR)
                .header("Content-Type", "application/json; charset=utf-8")
                .PUT(HttpRequest.BodyPublishers.ofString(Fixtures.app("1.0", 1))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, charset.statusCode());
    }

    @Test
    void unknownEndpointsAndMethodsShareTheErrorShape() throws Exception {
        assertError(f.get("/v1/nothing", VIEWER), 404, "not_found");
        var r = f.http.send(f.request("/v1/assignments/h1/web", OPERATOR).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() == 404 || r.statusCode() == 405, r.body());
        assertTrue(json(r).has("error"));
    }

    @Test
    void aGivenRequestIdIsEchoedAndOneIsMadeOtherwise() throws Exception {
        var r = f.http.send(f.request("/v1/apps/none-here", VIEWER).header("X-Request-Id", "trace-42").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("trace-42", r.headers().firstValue("X-Request-Id").orElseThrow());
        assertEquals("trace-42", json(r).get("error").get("requestId").asText());
        var made = f.get("/healthz", null);
        assertTrue(made.headers().firstValue("X-Request-Id").orElseThrow().length() >= 16);
        var hostile = f.http.send(f.request("/healthz", null).header("X-Request-Id", "x".repeat(500) + "<script>")
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(hostile.headers().firstValue("X-Request-Id").orElseThrow().length() <= 128,
                "an unusable id is replaced, not echoed");
    }

    @Test
    void aRetriedWriteWithTheSameIdempotencyKeyIsAnsweredOnceAndNotRepeated() throws Exception {
        var first = f.put("/v1/apps/idem", OPERATOR, Fixtures.app("1.0", 1), "Idempotency-Key", "k-1");
        assertEquals(201, first.statusCode(), first.body());
        long rev = f.store.get(f.store.keys().app("idem"), AppIntent.class).orElseThrow().modRevision();
        var again = f.put("/v1/apps/idem", OPERATOR, Fixtures.app("1.0", 1), "Idempotency-Key", "k-1");
        assertEquals(201, again.statusCode(), again.body());
        assertEquals("true", again.headers().firstValue("Idempotent-Replayed").orElseThrow());
        assertEquals(first.headers().firstValue("ETag"), again.headers().firstValue("ETag"));
        assertEquals(json(first), json(again));
        assertEquals(rev, f.store.get(f.store.keys().app("idem"), AppIntent.class).orElseThrow().modRevision(),
                "the replay wrote nothing");
        assertError(f.put("/v1/apps/idem", OPERATOR, Fixtures.app("2.0", 1), "Idempotency-Key", "k-1"), 422,
                "idempotency_key_reused");
        assertEquals("1.0", stored("idem").active());
        // the record lives in etcd on a lease, so every API replica and a restarted API see it
        var records = f.store.list(f.store.keys().root() + "/idempotency/", com.fasterxml.jackson.databind.JsonNode.class);
        assertTrue(records.entries().stream().anyMatch(e -> e.lease() != 0));
        // an error answer is replayed too, and a new key runs again
        var firstError = f.put("/v1/apps/idem", OPERATOR, Fixtures.app("1.0", 1), "Idempotency-Key", "k-2",
                "If-Match", "\"1\"");
        assertError(firstError, 412, "precondition_failed");
        var replayedError = f.put("/v1/apps/idem", OPERATOR, Fixtures.app("1.0", 1), "Idempotency-Key", "k-2",
                "If-Match", "\"1\"");
        assertEquals(412, replayedError.statusCode());
        assertEquals(json(firstError), json(replayedError), "the replay names the request that did the work");
        assertError(f.put("/v1/apps/idem", OPERATOR, Fixtures.app("1.0", 1), "Idempotency-Key", "k".repeat(300)),
                400, "bad_request");
    }

    @Test
    void concurrentRetriesWithOneIdempotencyKeyWriteOnceAndAllGetTheFirstOnesAnswer() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            sent.add(f.http.sendAsync(f.request("/v1/apps/idem-race", OPERATOR)
                    .header("Content-Type", "application/json").header("Idempotency-Key", "race-1")
                    .PUT(HttpRequest.BodyPublishers.ofString(Fixtures.app("1.0", 1))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        int replayed = 0;
        for (var s : sent) {
            var r = s.get(30, TimeUnit.SECONDS);
            // a retry arriving while the first runs waits for its answer (it was 409 "in progress")
            assertEquals(201, r.statusCode(), "every retry gets the first request's answer: " + r.body());
            replayed += r.headers().firstValue("Idempotent-Replayed").isPresent() ? 1 : 0;
        }
        assertEquals(7, replayed, "one request ran, seven were answered with its stored reply");
        var history = json(f.get("/v1/apps/idem-race/history", VIEWER)).get("history");
        assertEquals(1, history.size(), "exactly one write happened: " + history);
    }

    @Test
    void theHistoryOfAnAppFollowingAChannelNamesTheChannelMoveBehindEachChange() throws Exception {
        var keys = f.store.keys();
        var a1 = Json.read(Fixtures.app("1.0", 1), io.intent.store.model.AppIntent.class);
        f.store.put(keys.app("ch-hist"), a1.withChannel(io.intent.store.model.ChannelFollow.of("stable")));
        var moved = a1.withChannel(new io.intent.store.model.ChannelFollow("stable", "1.0", 41L, 40L, Instant.now(),
                null, null, List.of()));
        f.store.put(keys.app("ch-hist"), moved);
        f.store.put(keys.app("ch-hist"), moved.withChannel(moved.channel().stop("rollout of 1.0 failed", Instant.now())));
        var history = json(f.get("/v1/apps/ch-hist/history", VIEWER)).get("history");
        assertEquals(3, history.size(), history.toString());
        assertEquals("rollout of 1.0 failed", history.get(0).get("stopped").asText());
        assertEquals(41, history.get(1).get("channelRevision").asLong());
        assertEquals("stable", history.get(1).get("channel").asText());
        assertTrue(history.get(2).get("channelRevision") == null, "the operator's own write names no move");
        var bad = f.put("/v1/channels/Stable_1", OPERATOR, "{\"version\":\"1.0\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("invalid_name"), bad.body());
        var noSha = f.put("/v1/channels/stable", OPERATOR, "{\"version\":\"1.0\",\"artifact\":\"https://r/a.tgz\"}");
        assertEquals(400, noSha.statusCode(), noSha.body());
        assertTrue(noSha.body().contains("sha256: required with artifact"), noSha.body());
        assertEquals(0, f.store.count(keys.channelsPrefix()));
    }

    @Test
    void hostsCanBeRegisteredReadAndDrained() throws Exception {
        var put = f.put("/v1/hosts/h-drain", OPERATOR, "{\"labels\":{\"zone\":\"a\"},\"address\":\"127.0.0.2\"}");
        assertEquals(201, put.statusCode(), put.body());
        f.store.put(f.store.keys().live("h-drain"), new Liveness("h-drain", "127.0.0.2", "test", 1, Instant.now()));
        // written behind the API's back: its read cache shows it within the watch delay, not at once
        await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
                json(f.get("/v1/hosts/h-drain", VIEWER)).hasNonNull("live"));
        var got = f.get("/v1/hosts/h-drain", VIEWER);
        assertEquals(200, got.statusCode());
        assertEquals("127.0.0.2", json(got).get("live").get("address").asText());
        String etag = got.headers().firstValue("ETag").orElseThrow();
        var drained = f.put("/v1/hosts/h-drain", OPERATOR,
                "{\"labels\":{\"zone\":\"a\"},\"address\":\"127.0.0.2\",\"drain\":true}", "If-Match", etag);
        assertEquals(200, drained.statusCode(), drained.body());
        assertTrue(f.store.get(f.store.keys().host("h-drain"), HostSpec.class).orElseThrow().value().drainOrDefault());
        assertTrue(f.get("/v1/hosts", VIEWER).body().contains("\"h-drain\""));
        assertError(f.put("/v1/hosts/h-drain", OPERATOR, "{\"labels\":{\"bad key!\":\"x\"}}"), 400, "invalid_intent");
        assertError(f.get("/v1/hosts/nope", VIEWER), 404, "not_found");
        assertError(f.delete("/v1/hosts/h-drain", OPERATOR), 403, "forbidden");
        assertEquals(200, f.delete("/v1/hosts/h-drain", ADMIN).statusCode());
        assertTrue(f.store.get(f.store.keys().host("h-drain"), HostSpec.class).isEmpty());
    }

    @Test
    void rollbackReturnsToThePreviousActiveVersionFromEtcdHistory() throws Exception {
        f.put("/v1/apps/rb", OPERATOR, Fixtures.app("1.0", 1));
        f.put("/v1/apps/rb", OPERATOR, Fixtures.app("1.0", 2));
        f.put("/v1/apps/rb", OPERATOR, Fixtures.app("2.0", 2));
        var hist = f.get("/v1/apps/rb/history", VIEWER);
        assertEquals(200, hist.statusCode());
        assertEquals(3, json(hist).get("history").size(), hist.body());
        var r = f.post("/v1/apps/rb/rollback", OPERATOR, "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("2.0", json(r).get("from").asText());
        assertEquals("1.0", json(r).get("to").asText());
        assertEquals("1.0", stored("rb").active());
        assertEquals(2, stored("rb").scale(), "rollback changes the active version only");
        var to = f.post("/v1/apps/rb/rollback", OPERATOR, "{\"to\":\"2.0\"}");
        assertEquals(200, to.statusCode(), to.body());
        assertEquals("2.0", stored("rb").active());
        assertError(f.post("/v1/apps/rb/rollback", OPERATOR, "{\"to\":\"7.0\"}"), 400, "invalid_intent");
        f.put("/v1/apps/rb-new", OPERATOR, Fixtures.app("1.0", 1));
        assertError(f.post("/v1/apps/rb-new/rollback", OPERATOR, ""), 409, "no_previous_version");
    }

    @Test
    void assignmentsPlacementsAndStatusAreReadFromTheStore() throws Exception {
        var keys = f.store.keys();
        f.put("/v1/apps/st", OPERATOR, Fixtures.app("1.0", 1));
        long rev = f.store.get(keys.app("st"), AppIntent.class).orElseThrow().modRevision();
        f.store.put(keys.host("h-st"), new HostSpec(Map.of(), null, "127.0.0.3", false));
        f.store.put(keys.live("h-st"), new Liveness("h-st", "127.0.0.3", "test", 1, Instant.now()));
        f.store.put(keys.placement("st"), new Placement(List.of("h-st"), 1, rev, null));
        f.store.put(keys.assignment("h-st", "st"), new io.intent.store.model.Assignment("st", "h-st", rev,
                stored("st")));
        for (String agent : List.of("preparer", "iptables", "setlive")) {
            f.store.put(keys.status("h-st", "st", agent), new io.intent.store.model.AgentStatus(agent,
                    io.intent.store.model.Phase.READY, "1.0", rev, null, 0, Instant.now(), null, Map.of()));
        }
        // written behind the API's back: its cache has them within the watch delay
        await().atMost(java.time.Duration.ofSeconds(5)).until(() -> json(f.get("/v1/status/apps/st", VIEWER))
                .get("state").asText().equals("OK"));
        var st = json(f.get("/v1/status/apps/st", VIEWER));
        assertEquals("OK", st.get("state").asText(), st.toString());
        assertTrue(st.get("converged").asBoolean());
        var host = json(f.get("/v1/status/hosts/h-st", VIEWER));
        assertEquals("OK", host.get("apps").get(0).get("state").asText(), host.toString());
        assertTrue(f.get("/v1/status", VIEWER).body().contains("\"app\":\"st\""));
        assertTrue(f.get("/v1/status/hosts", VIEWER).body().contains("\"host\":\"h-st\""));
        var a = f.get("/v1/assignments/h-st/st", VIEWER);
        assertEquals(200, a.statusCode());
        assertEquals(rev, json(a).get("value").get("appRevision").asLong());
        assertTrue(f.get("/v1/assignments?host=h-st", VIEWER).body().contains("assign/h-st/st"));
        assertTrue(f.get("/v1/assignments?app=st", VIEWER).body().contains("assign/h-st/st"));
        assertEquals(200, f.get("/v1/placements/st", VIEWER).statusCode());
        assertTrue(f.get("/v1/placements", VIEWER).body().contains("placement/st"));
        assertError(f.get("/v1/assignments/h-st/none", VIEWER), 404, "not_found");
        assertError(f.get("/v1/status/apps/none", VIEWER), 404, "not_found");
        assertError(f.get("/v1/status/hosts/none", VIEWER), 404, "not_found");

        // the active version changes: the host still runs 1.0 until setlive reports 2.0
        f.put("/v1/apps/st", OPERATOR, Fixtures.app("2.0", 1));
        long rev2 = f.store.get(keys.app("st"), AppIntent.class).orElseThrow().modRevision();
        assertEquals("PENDING", json(f.get("/v1/status/apps/st", VIEWER)).get("state").asText());
        f.store.put(keys.placement("st"), new Placement(List.of("h-st"), 1, rev2, null));
        f.store.put(keys.assignment("h-st", "st"), new io.intent.store.model.Assignment("st", "h-st", rev2,
                stored("st")));
        for (String agent : List.of("preparer", "iptables", "setlive")) {
            f.store.put(keys.status("h-st", "st", agent), new io.intent.store.model.AgentStatus(agent,
                    io.intent.store.model.Phase.READY, "1.0", rev2, null, 0, Instant.now(), null, Map.of()));
        }
        assertEquals("VERSION_MISMATCH", json(f.get("/v1/status/apps/st", VIEWER)).get("state").asText());
    }

    @Test
    void theLeaderIsTheElectionKeyWithTheLowestCreateRevision() throws Exception {
        var none = json(f.get("/v1/leader", VIEWER));
        assertTrue(none.get("leader").isNull(), none.toString());
        var election = f.store.client().getElectionClient();
        var l1 = f.store.client().getLeaseClient().grant(30).get(5, TimeUnit.SECONDS).getID();
        var l2 = f.store.client().getLeaseClient().grant(30).get(5, TimeUnit.SECONDS).getID();
        var name = io.etcd.jetcd.ByteSequence.from(f.store.keys().election(), StandardCharsets.UTF_8);
        election.campaign(name, l1, io.etcd.jetcd.ByteSequence.from("leader-one", StandardCharsets.UTF_8))
                .get(5, TimeUnit.SECONDS);
        var second = election.campaign(name, l2, io.etcd.jetcd.ByteSequence.from("leader-two", StandardCharsets.UTF_8));
        var r = json(f.get("/v1/leader", VIEWER));
        assertEquals("leader-one", r.get("leader").get("id").asText(), r.toString());
        assertTrue(r.get("leader").get("createRevision").asLong() > 0);
        assertNotNull(r.get("leader").get("observedSince"));
        f.store.revokeLease(l1);
        second.get(10, TimeUnit.SECONDS);
        assertEquals("leader-two", json(f.get("/v1/leader", VIEWER)).get("leader").get("id").asText());
        f.store.revokeLease(l2);
    }

    /** Reads an event stream up to its ": connected" comment: the API holds the subscriber from then on. */
    private static void connected(BufferedReader in) throws Exception {
        CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = in.readLine()) != null && !line.startsWith(": connected")) {
                    // the retry line comes first
                }
                return line;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(15, TimeUnit.SECONDS);
    }

    @Test
    void theEventStreamCarriesChangesFromEtcd() throws Exception {
        var req = f.request("/v1/events?prefix=apps/", VIEWER).GET().build();
        var resp = f.http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, resp.statusCode());
        assertTrue(resp.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
        try (var in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            connected(in);
            CompletableFuture<String> event = CompletableFuture.supplyAsync(() -> {
                try {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("data:") && line.contains("apps/sse")) {
                            return line;
                        }
                    }
                    return null;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            f.put("/v1/hosts/h-sse", OPERATOR, "{}");
            f.store.put(f.store.keys().app("sse"), Json.read(Fixtures.app("1.0", 1), AppIntent.class));
            String line = event.get(15, TimeUnit.SECONDS);
            assertNotNull(line);
            JsonNode data = Json.tree(line.substring(5).strip().getBytes(StandardCharsets.UTF_8));
            assertEquals("put", data.get("kind").asText());
            assertEquals("1.0", data.get("value").get("active").asText());
        }
    }

    @Test
    void theEventStreamNeverShowsTokensOrIdempotencyRecords() throws Exception {
        var resp = f.http.send(f.request("/v1/events", VIEWER).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try (var in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            connected(in);
            CompletableFuture<String> lines = CompletableFuture.supplyAsync(() -> {
                StringBuilder sb = new StringBuilder();
                try {
                    String line;
                    while ((line = in.readLine()) != null) {
                        sb.append(line).append('\n');
                        if (line.contains("apps/after-secrets")) {
                            return sb.toString();
                        }
                    }
                } catch (java.io.IOException e) {
                    // stream closed
                }
                return sb.toString();
            });
            f.put("/v1/tokens/dave", ADMIN, "{\"role\":\"viewer\",\"sha256\":\"" + "c".repeat(64) + "\"}");
            f.put("/v1/apps/secret-idem", OPERATOR, Fixtures.app("1.0", 1), "Idempotency-Key", "s-1");
            f.put("/v1/apps/after-secrets", OPERATOR, Fixtures.app("1.0", 1));
            String seen = lines.get(15, TimeUnit.SECONDS);
            assertTrue(seen.contains("apps/secret-idem"), seen);
            assertFalse(seen.contains("auth/"), seen);
            assertFalse(seen.contains("idempotency"), seen);
            assertFalse(seen.contains("cccc"), seen);
        }
    }

    @Test
    void healthReadinessMetricsAndOpenApiAreServed() throws Exception {
        var h = f.get("/healthz", null);
        assertEquals(200, h.statusCode());
        var ready = f.get("/readyz", null);
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(json(ready).get("ready").asBoolean());
        f.get("/v1/apps", VIEWER);
        var m = f.get("/metrics", null);
        assertEquals(200, m.statusCode());
        assertTrue(m.body().contains("intent_api_requests_seconds_count{route=\"GET /v1/apps\",status=\"200\"}"),
                m.body().lines().filter(l -> l.contains("intent_api")).toList().toString());
        var oa = f.get("/v1/openapi.json", null);
        assertEquals(200, oa.statusCode());
        JsonNode doc = json(oa);
        assertTrue(doc.get("openapi").asText().startsWith("3."));
        for (String path : List.of("/v1/apps", "/v1/apps/{name}", "/v1/hosts/{name}", "/v1/status", "/v1/events",
                "/v1/leader", "/v1/plan", "/v1/assignments")) {
            assertTrue(doc.get("paths").has(path), "openapi lacks " + path);
        }
    }

    @Test
    void planShowsTheDiffAndAPlacementPreviewWithoutWriting() throws Exception {
        var keys = f.store.keys();
        f.put("/v1/apps/pl", OPERATOR, Fixtures.app("1.0", 1));
        for (String h : List.of("h-pl1", "h-pl2")) {
            f.store.put(keys.host(h), new HostSpec(Map.of("zone", "plan"), null, null, false));
            f.store.put(keys.live(h), new Liveness(h, null, "t", 1, Instant.now()));
        }
        long before = f.store.revision();
        String body = "{\"apps\":{\"pl\":" + Fixtures.app("2.0", 1) + ",\"pl-new\":"
                + Fixtures.app("1.0", 3).replace("8080", "9191").replace("\"scale\":3", "\"scale\":3,\"constraints\":{\"labels\":{\"zone\":\"plan\"}}")
                + ",\"pl-bad\":{\"scale\":-4}}}";
        var r = f.post("/v1/plan", VIEWER, body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode plan = json(r);
        assertFalse(plan.get("valid").asBoolean());
        Map<String, JsonNode> byName = new java.util.HashMap<>();
        plan.get("apps").forEach(a -> byName.put(a.get("name").asText(), a));
        assertEquals("update", byName.get("pl").get("action").asText());
        assertEquals("active", byName.get("pl").get("changes").get(0).get("path").asText());
        assertEquals("create", byName.get("pl-new").get("action").asText());
        assertEquals(2, byName.get("pl-new").get("placement").get("hosts").size(), r.body());
        assertFalse(byName.get("pl-new").get("placement").get("pending").asText().isBlank(), r.body());
        assertEquals("invalid", byName.get("pl-bad").get("action").asText());
        assertEquals(before, f.store.revision(), "plan wrote nothing");
    }

    @Test
    void adminsManageTokensStoredInEtcdAndNewTokensWorkAtOnce() throws Exception {
        String secret = "erin-secret-token-xyz";
        assertError(f.put("/v1/tokens/erin", ADMIN, "{\"role\":\"viewer\",\"sha256\":\"" + secret + "\"}"), 400,
                "invalid_intent");
        var put = f.put("/v1/tokens/erin", ADMIN, "{\"role\":\"viewer\",\"sha256\":\"" + Tokens.hash(secret) + "\"}");
        assertEquals(201, put.statusCode(), put.body());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> f.get("/v1/apps", secret).statusCode() == 200);
        var list = f.get("/v1/tokens", ADMIN);
        assertTrue(list.body().contains("erin"));
        assertFalse(list.body().contains(Tokens.hash(secret)), "hashes are never listed");
        assertEquals(200, f.delete("/v1/tokens/erin", ADMIN).statusCode());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> f.get("/v1/apps", secret).statusCode() == 401);
    }
}
