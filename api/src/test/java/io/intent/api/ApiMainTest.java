package io.intent.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AppIntent;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The API as operators run it (ApiMain in its own JVM), and what it never logs. */
class ApiMainTest {
    @TempDir
    Path dir;

    @Test
    void apiMainServesTheApiFromItsOwnJvmAndSurvivesAKill() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            Path tokens = dir.resolve("tokens.yaml");
            Files.writeString(tokens, "- {name: ops, role: operator, sha256: " + Tokens.hash("ops-token") + "}\n");
            int port = Ports.free();
            List<String> args = List.of("--etcd", etcd.endpoint(0), "--port", Integer.toString(port));
            Map<String, String> env = Map.of("INTENT_TOKENS_FILE", tokens.toString());
            String app = Fixtures.app("1.0", 1);
            try (JvmProcess api = JvmProcess.start(ApiMain.class, args, env, dir.resolve("api.log"))) {
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/readyz")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
                var put = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/apps/web"))
                        .header("Authorization", "Bearer ops-token").header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(app)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(201, put.statusCode(), put.body());
                assertEquals("1.0", store.get(store.keys().app("web"), AppIntent.class).orElseThrow().value().active());
                api.kill9();
                assertFalse(api.alive());
            }
            // a fresh process serves the same data: the API keeps nothing that matters in memory
            try (JvmProcess api = JvmProcess.start(ApiMain.class, args, env, dir.resolve("api2.log"))) {
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v1/apps/web")).header("Authorization",
                        "Bearer ops-token").build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
                api.terminate(10);
            }
            String log = Files.readString(dir.resolve("api.log"));
            assertFalse(log.contains("ops-token"), "the token never reaches the log");
        }
    }

    @Test
    void hashTokenPrintsTheSha256AndExits() throws Exception {
        try (JvmProcess p = JvmProcess.start(ApiMain.class, List.of("--hash-token", "s3cret"), Map.of(),
                dir.resolve("hash.log"))) {
            assertTrue(p.waitFor(60));
            assertEquals(0, p.exitCode());
            assertTrue(p.output().contains(Tokens.hash("s3cret")), p.output());
        }
    }

    @Test
    void noLogLineCarriesAToken() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        try (ApiFixture f = new ApiFixture()) {
            f.put("/v1/apps/logged", ApiFixture.OPERATOR, Fixtures.app("1.0", 1));
            f.put("/v1/apps/logged", ApiFixture.VIEWER, Fixtures.app("1.0", 1));
            f.get("/v1/apps", "wrong-secret-token");
            f.put("/v1/apps/logged", ApiFixture.OPERATOR, "{bad json");
            f.store.put(f.store.keys().app("other"), Json.read(Fixtures.app("1.0", 1), AppIntent.class));
        } finally {
            root.detachAppender(appender);
        }
        assertFalse(appender.list.isEmpty(), "writes and errors are logged");
        assertTrue(appender.list.stream().anyMatch(e -> e.getFormattedMessage().contains("requestId=")));
        for (ILoggingEvent e : appender.list) {
            String line = e.getFormattedMessage();
            for (String secret : List.of(ApiFixture.OPERATOR, ApiFixture.VIEWER, "wrong-secret-token")) {
                assertFalse(line.contains(secret), "token in log line: " + line);
            }
        }
        assertTrue(appender.list.stream().filter(e -> e.getFormattedMessage().contains("requestId="))
                .allMatch(e -> e.getMDCPropertyMap().containsKey("requestId")), "the request id is in the MDC too");
    }
}
