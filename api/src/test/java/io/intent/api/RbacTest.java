package io.intent.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.auth.Permission;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Rbac;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The API under the documented etcd auth: etc/etcd/setup-rbac.sh run as shipped, the API connected as user
 * {@code intent-api}; every write route must work, and a refused write must say which key and which user.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RbacTest {
    static final String ADMIN = "rbac-admin-token-0123456789";
    static final String NEW_TOKEN = "rbac-minted-token-0123456789";

    Path work;

    EtcdCluster etcd;
    EtcdStore root;
    EtcdStore apiStore;
    Tokens tokens;
    ApiServer api;
    ApiFixtureClient client;

    /** The HTTP half of ApiFixture, against any API. */
    record ApiFixtureClient(ApiServer api) {
        HttpResponse<String> send(String method, String path, String token, String json, String... headers)
                throws Exception {
            var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.url() + path))
                    .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token);
            if (json != null) {
                b.header("Content-Type", "application/json");
            }
            for (int i = 0; i < headers.length; i += 2) {
                b.header(headers[i], headers[i + 1]);
            }
            b.method(method, json == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                    : java.net.http.HttpRequest.BodyPublishers.ofString(json));
            return java.net.http.HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("intent-rbac-");
        etcd = EtcdCluster.single();
        Rbac rbac = Rbac.setup(etcd.endpoints(), work, "h1");
        var base = EtcdConfig.of(etcd.endpoints());
        root = EtcdStore.connect(base.withCredentials("root", Rbac.ROOT_PASSWORD));
        apiStore = EtcdStore.connect(base.withCredentials("intent-api", rbac.password("intent-api")));
        api = startApi(apiStore);
        client = new ApiFixtureClient(api);
    }

    ApiServer startApi(EtcdStore store) throws Exception {
        tokens = Tokens.fromFile(tokensFile()).follow(store);
        return ApiServer.start(store, tokens, ApiServer.Options.defaults().withPort(0));
    }

    @AfterAll
    void stop() {
        try {
            if (api != null) {
                api.close();
            }
            if (tokens != null) {
                tokens.close();
            }
            if (apiStore != null) {
                apiStore.close();
            }
            if (root != null) {
                root.close();
            }
        } finally {
            if (etcd != null) {
                etcd.close();
            }
        }
    }

    static void assertStatus(int status, HttpResponse<String> r) {
        assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.request().uri() + ": " + r.body());
    }

    HttpResponse<String> write(String method, String path, String json, String key) throws Exception {
        return client.send(method, path, ADMIN, json, "Idempotency-Key", key);
    }

    @Test
    void everyWriteRouteWorksAsIntentApiWithAnIdempotencyKey() throws Exception {
        String app = root.keys().app("x");
        var created = write("PUT", "/v1/apps/x", Fixtures.app("1.0", 1), "k-app-1");
        assertStatus(201, created);
        assertEquals("1.0", root.get(app, AppIntent.class).orElseThrow().value().active());
        var replayed = write("PUT", "/v1/apps/x", Fixtures.app("1.0", 1), "k-app-1");
        assertStatus(201, replayed);
        assertEquals("true", replayed.headers().firstValue("Idempotent-Replayed").orElse(null));
        assertFalse(root.list(root.keys().root() + "/idempotency/", Map.class).entries().isEmpty(),
                "the idempotency record is in etcd");

        assertStatus(200, write("PUT", "/v1/apps/x", Fixtures.app("2.0", 1), "k-app-2"));
        assertStatus(200, write("POST", "/v1/apps/x/rollback", null, "k-rollback"));
        assertEquals("1.0", root.get(app, AppIntent.class).orElseThrow().value().active());

        assertStatus(201, write("PUT", "/v1/hosts/h9", "{\"drain\": true}", "k-host"));
        assertTrue(root.get(root.keys().host("h9"), HostSpec.class).orElseThrow().value().drainOrDefault());

        String token = root.keys().root() + "/auth/tokens/ci";
        assertStatus(201, write("PUT", "/v1/tokens/ci", "{\"role\": \"viewer\", \"sha256\": \""
                + Tokens.hash(NEW_TOKEN) + "\"}", "k-token"));
        assertTrue(root.get(token, Map.class).isPresent());
        await().atMost(Duration.ofSeconds(10)).until(() -> client.send("GET", "/v1/apps", NEW_TOKEN, null)
                .statusCode() == 200);
        assertStatus(200, write("DELETE", "/v1/tokens/ci", null, "k-token-del"));
        assertTrue(root.get(token, Map.class).isEmpty());

        assertStatus(200, write("DELETE", "/v1/hosts/h9", null, "k-host-del"));
        assertTrue(root.get(root.keys().host("h9"), HostSpec.class).isEmpty());
        assertStatus(200, write("DELETE", "/v1/apps/x", null, "k-app-del"));
        assertTrue(root.get(app, AppIntent.class).isEmpty());
        assertStatus(200, client.send("POST", "/v1/plan", ADMIN, "{\"apps\": {\"x\": " + Fixtures.app("1.0", 1)
                + "}}"));
    }

    @Test
    void aWriteEtcdRefusesNamesTheKeyAndTheUser() throws Exception {
        // the role intent-api had before: read everything, write apps/ and hosts/ only
        var auth = root.client().getAuthClient();
        auth.roleAdd(bs("narrow")).get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("narrow"), bs("/intent/"), bs("/intent0"), Permission.Type.READ)
                .get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("narrow"), bs("/intent/apps/"), bs("/intent/apps0"), Permission.Type.READWRITE)
                .get(10, TimeUnit.SECONDS);
        auth.userAdd(bs("narrow-api"), bs("narrow-pw")).get(10, TimeUnit.SECONDS);
        auth.userGrantRole(bs("narrow-api"), bs("narrow")).get(10, TimeUnit.SECONDS);
        try (EtcdStore narrow = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withCredentials("narrow-api",
                "narrow-pw")); Tokens t = Tokens.fromFile(tokensFile()).follow(narrow);
             ApiServer narrowApi = ApiServer.start(narrow, t, ApiServer.Options.defaults().withPort(0))) {
            var c = new ApiFixtureClient(narrowApi);
            long started = System.nanoTime();
            var r = c.send("PUT", "/v1/apps/y", ADMIN, Fixtures.app("1.0", 1), "Idempotency-Key", "k-denied");
            assertStatus(500, r);
            assertTrue(System.nanoTime() - started < narrow.retryBudget().toNanos(), "not retried as transient");
            JsonNode e = Json.tree(r.body().getBytes(StandardCharsets.UTF_8)).get("error");
            assertEquals("store_permission_denied", e.get("code").asText(), r.body());
            String m = e.get("message").asText();
            assertTrue(m.contains("'narrow-api'") && m.contains("/intent/idempotency/")
                    && m.contains("setup-rbac.sh"), m);
            assertTrue(root.get(root.keys().app("y"), AppIntent.class).isEmpty());

            var token = c.send("PUT", "/v1/tokens/z", ADMIN, "{\"role\": \"viewer\", \"sha256\": \""
                    + Tokens.hash("z") + "\"}");
            assertStatus(500, token);
            String tm = Json.tree(token.body().getBytes(StandardCharsets.UTF_8)).get("error").get("message").asText();
            assertTrue(tm.contains("'narrow-api'") && tm.contains("/intent/auth/tokens/z"), tm);
        }
    }

    @Test
    void theScriptRunsAgainWithAuthOnAndKeepsEveryPassword() throws Exception {
        String before = Files.readString(work.resolve("secrets/intent-api.password"));
        Rbac again = Rbac.setup(etcd.endpoints(), work, "h1", "h2");
        assertEquals(before, Files.readString(again.passwordFile("intent-api")));
        try (EtcdStore h2 = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withCredentials("h2",
                again.password("h2")))) {
            h2.put(h2.keys().status("h2", "web", "setlive"), Map.of());
        }
        assertStatus(200, client.send("GET", "/v1/apps", ADMIN, null));
    }

    @Test
    void noPasswordEverAppearsOnACommandLineWhileTheScriptRuns() throws Exception {
        // a fresh etcd, so both paths run: auth off (root added on stdin) and then on (root's password in env)
        Path fresh = Files.createTempDirectory("intent-rbac-ps-");
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                seen.addAll(commandLines());
            }
        }, "ps-sampler");
        try (EtcdCluster other = EtcdCluster.single()) {
            sampler.start();
            Rbac first = Rbac.setup(other.endpoints(), fresh, "p1");
            Rbac.setup(other.endpoints(), fresh, "p1", "p2");
            running.set(false);
            sampler.join();
            List<String> etcdctl = seen.stream().filter(c -> c.contains("etcdctl")).toList();
            assertTrue(etcdctl.size() >= 10, () -> "the sampler saw the script's etcdctl runs: " + etcdctl);
            for (String secret : List.of(Rbac.ROOT_PASSWORD, first.password("p1"), first.password("p2"),
                    first.password("intent-api"), first.password("intent-leader"))) {
                for (String c : seen) {
                    assertFalse(c.contains(secret), "a password on a command line: " + c);
                }
            }
        } finally {
            running.set(false);
        }
    }

    /** Every process's command line, as ps shows it to any user. */
    static List<String> commandLines() {
        List<String> out = new ArrayList<>();
        try (var procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                try {
                    out.add(new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' '));
                } catch (java.io.IOException e) {
                    // the process ended meanwhile
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    Path tokensFile() throws Exception {
        Path file = work.resolve("tokens.yaml");
        Files.writeString(file, "- {name: alice, role: admin, sha256: " + Tokens.hash(ADMIN) + "}\n");
        return file;
    }

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

}
