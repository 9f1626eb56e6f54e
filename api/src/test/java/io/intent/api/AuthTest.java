package io.intent.api;

import static io.intent.api.ApiFixture.ADMIN;
import static io.intent.api.ApiFixture.OPERATOR;
import static io.intent.api.ApiFixture.VIEWER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AppIntent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The auth matrix: no token, wrong token, viewer, operator, admin, on reads and writes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthTest {
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

    boolean exists(String app) {
        return f.store.get(f.store.keys().app(app), AppIntent.class).isPresent();
    }

    @Test
    void withoutATokenEveryV1EndpointIs401ButHealthIsOpen() throws Exception {
        for (String path : List.of("/v1/apps", "/v1/hosts", "/v1/status", "/v1/leader", "/v1/events",
                "/v1/assignments", "/v1/tokens")) {
            var r = f.get(path, null);
            ApiTest.assertError(r, 401, "unauthorized");
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer"));
        }
        ApiTest.assertError(f.put("/v1/apps/anon", null, Fixtures.app("1.0", 1)), 401, "unauthorized");
        assertFalse(exists("anon"));
        assertEquals(200, f.get("/healthz", null).statusCode());
        assertEquals(200, f.get("/readyz", null).statusCode());
        assertEquals(200, f.get("/metrics", null).statusCode());
        assertEquals(200, f.get("/v1/openapi.json", null).statusCode());
        assertEquals(200, f.get("/", null).statusCode());
    }

    @Test
    void aWrongTokenOrSchemeIs401() throws Exception {
        ApiTest.assertError(f.get("/v1/apps", "not-a-token"), 401, "unauthorized");
        ApiTest.assertError(f.get("/v1/apps", ADMIN + "x"), 401, "unauthorized");
        var basic = f.http.send(f.request("/v1/apps", null).header("Authorization", "Basic " + ADMIN).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        ApiTest.assertError(basic, 401, "unauthorized");
        ApiTest.assertError(f.put("/v1/apps/wrong", "nope", Fixtures.app("1.0", 1)), 401, "unauthorized");
        assertFalse(exists("wrong"));
        // the hash is not a token
        ApiTest.assertError(f.get("/v1/apps", Tokens.hash(ADMIN)), 401, "unauthorized");
    }

    @Test
    void aViewerReadsButCannotWrite() throws Exception {
        assertEquals(200, f.get("/v1/apps", VIEWER).statusCode());
        assertEquals(200, f.get("/v1/status", VIEWER).statusCode());
        ApiTest.assertError(f.put("/v1/apps/by-viewer", VIEWER, Fixtures.app("1.0", 1)), 403, "forbidden");
        assertFalse(exists("by-viewer"));
        ApiTest.assertError(f.put("/v1/hosts/by-viewer", VIEWER, "{}"), 403, "forbidden");
        f.put("/v1/apps/keep", OPERATOR, Fixtures.app("1.0", 1));
        ApiTest.assertError(f.delete("/v1/apps/keep", VIEWER), 403, "forbidden");
        ApiTest.assertError(f.post("/v1/apps/keep/rollback", VIEWER, ""), 403, "forbidden");
        assertTrue(exists("keep"));
        ApiTest.assertError(f.get("/v1/tokens", VIEWER), 403, "forbidden");
        assertEquals(200, f.post("/v1/plan", VIEWER, "{\"apps\":{\"p\":" + Fixtures.app("1.0", 1) + "}}").statusCode());
    }

    @Test
    void anOperatorWritesIntentButCannotManageTokens() throws Exception {
        assertEquals(201, f.put("/v1/apps/by-op", OPERATOR, Fixtures.app("1.0", 1)).statusCode());
        assertTrue(exists("by-op"));
        assertEquals(201, f.put("/v1/hosts/by-op", OPERATOR, "{\"drain\":true}").statusCode());
        ApiTest.assertError(f.get("/v1/tokens", OPERATOR), 403, "forbidden");
        ApiTest.assertError(f.put("/v1/tokens/mallory", OPERATOR,
                "{\"role\":\"admin\",\"sha256\":\"" + "d".repeat(64) + "\"}"), 403, "forbidden");
        assertEquals(0, f.store.count(Tokens.prefix(f.store.keys())));
        ApiTest.assertError(f.delete("/v1/hosts/by-op", OPERATOR), 403, "forbidden");
    }

    @Test
    void anAdminMayDoEverything() throws Exception {
        assertEquals(201, f.put("/v1/apps/by-admin", ADMIN, Fixtures.app("1.0", 1)).statusCode());
        assertEquals(200, f.get("/v1/tokens", ADMIN).statusCode());
        assertEquals(201, f.put("/v1/hosts/by-admin", ADMIN, "{}").statusCode());
        assertEquals(200, f.delete("/v1/hosts/by-admin", ADMIN).statusCode());
        assertEquals(200, f.delete("/v1/apps/by-admin", ADMIN).statusCode());
    }

    @Test
    void anUnauthenticatedHugeBodyIsRefusedWithoutBeingRead() throws Exception {
        var r = f.http.send(f.request("/v1/apps/huge", null).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("x".repeat(2 * 1024 * 1024))).build(),
                HttpResponse.BodyHandlers.ofString());
        ApiTest.assertError(r, 401, "unauthorized");
    }

    @Test
    void aTokensFileWithAMistakeIsRefusedRatherThanOpeningTheApi() throws Exception {
        Path p = Files.createTempFile("tokens", ".yaml");
        try {
            Files.writeString(p, "- {name: x, role: root, sha256: " + "a".repeat(64) + "}\n");
            assertThrows(IllegalArgumentException.class, () -> Tokens.fromFile(p));
            Files.writeString(p, "- {name: x, role: admin, sha256: plaintext-token}\n");
            assertThrows(IllegalArgumentException.class, () -> Tokens.fromFile(p));
            Files.writeString(p, "- {name: x, role: admin, sha256: " + "a".repeat(64) + ", extra: 1}\n");
            assertThrows(IllegalArgumentException.class, () -> Tokens.fromFile(p));
            Files.writeString(p, "tokens:\n  - {name: x, role: viewer, sha256: " + Tokens.hash("t") + "}\n");
            assertEquals(Role.VIEWER, Tokens.fromFile(p).authenticate("t").orElseThrow().role());
        } finally {
            Files.delete(p);
        }
    }

    /** Reads an event stream to its end on a thread of its own; {@code ended} completes with the last lines. */
    static CompletableFuture<List<String>> readToEnd(HttpResponse<java.io.InputStream> resp) {
        return CompletableFuture.supplyAsync(() -> {
            List<String> lines = new java.util.ArrayList<>();
            try (var in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                lines.add("(connection failed: " + e + ")");
            }
            return lines;
        });
    }

    @Test
    void anEventStreamIsClosedAsSoonAsItsTokenIsRevoked() throws Exception {
        String token = "revocable-token-0123456789";
        assertEquals(201, f.put("/v1/tokens/eve", ADMIN, "{\"role\":\"viewer\",\"sha256\":\"" + Tokens.hash(token)
                + "\"}").statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> f.get("/v1/apps", token).statusCode() == 200);
        var revocable = f.http.send(f.request("/v1/events", token).timeout(Duration.ofMinutes(5)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        var other = f.http.send(f.request("/v1/events?prefix=apps/", VIEWER).timeout(Duration.ofMinutes(5)).GET()
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, revocable.statusCode());
        CompletableFuture<List<String>> ended = readToEnd(revocable);
        AtomicLong endedAt = new AtomicLong();
        ended.thenRun(() -> endedAt.set(System.nanoTime()));
        try (var otherIn = new BufferedReader(new InputStreamReader(other.body(), StandardCharsets.UTF_8))) {
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !ended.isDone());

            long revoking = System.nanoTime();
            assertEquals(200, f.delete("/v1/tokens/eve", ADMIN).statusCode());
            // the watch delay: etcd's watch event reaches the API within milliseconds; 5 s is headroom for load
            List<String> lines = ended.get(5, TimeUnit.SECONDS);
            long ms = (endedAt.get() - revoking) / 1_000_000;
            System.out.println("event stream closed " + ms + " ms after DELETE /v1/tokens/eve was sent");
            assertTrue(lines.contains("event: revoked"), () -> "the stream says why it ends: " + lines);
            assertEquals(401, f.get("/v1/events", token).statusCode(), "and cannot be reopened");

            // other streams keep flowing
            f.put("/v1/apps/after-revocation", OPERATOR, Fixtures.app("1.0", 1));
            String line;
            while ((line = otherIn.readLine()) != null && !line.contains("apps/after-revocation")) {
                // skip the preamble and earlier events
            }
            assertTrue(line != null, "the other token's stream was closed too");
        }
    }
}
