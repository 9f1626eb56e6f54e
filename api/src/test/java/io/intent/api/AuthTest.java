package io.intent.api;

import static io.intent.api.ApiFixture.ADMIN;
import static io.intent.api.ApiFixture.OPERATOR;
import static io.intent.api.ApiFixture.VIEWER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AppIntent;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
}
