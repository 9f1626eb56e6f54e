package io.intent.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When etcd is down the API says so (503, one error shape), stays alive, and recovers by itself. */
class StoreOutageTest {
    @Test
    void anEtcdOutageIs503AndTheApiRecoversWhenEtcdReturns() throws Exception {
        try (ApiFixture f = new ApiFixture(List.of("setlive"), Duration.ofSeconds(1))) {
            assertEquals(201, f.put("/v1/apps/web", ApiFixture.OPERATOR, Fixtures.app("1.0", 1)).statusCode());
            f.etcd.kill(0);
            // reads come from the watch-fed cache; the cache stops serving once etcd misses its liveness probe
            // (probed every second), so a dead etcd is never shown as current state
            await().atMost(Duration.ofSeconds(10)).until(() -> f.get("/v1/apps/web?x=" + System.nanoTime(),
                    ApiFixture.VIEWER).statusCode() == 503);
            ApiTest.assertError(f.get("/v1/apps/web", ApiFixture.VIEWER), 503, "store_unavailable");
            var write = f.put("/v1/apps/web", ApiFixture.OPERATOR, Fixtures.app("2.0", 1), "Idempotency-Key", "outage");
            ApiTest.assertError(write, 503, "store_unavailable");
            assertTrue(ApiTest.json(write).get("error").get("message").asText().contains("may or may not"),
                    "an unacknowledged write is reported as an unknown outcome, not as a failure");
            assertEquals(200, f.get("/healthz", null).statusCode(), "the process itself is fine");
            assertEquals(503, f.get("/readyz", null).statusCode());
            f.etcd.restart(0);
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> f.get("/v1/apps/web", ApiFixture.VIEWER).statusCode() == 200);
            // the operator's retry with the same key gets a definite answer, and the change is applied once
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                int code = f.put("/v1/apps/web", ApiFixture.OPERATOR, Fixtures.app("2.0", 1), "Idempotency-Key",
                        "outage").statusCode();
                assertTrue(code == 200 || code == 201 || code == 409, "unexpected " + code);
                return code != 409;
            });
            assertEquals("2.0", ApiTest.json(f.get("/v1/apps/web", ApiFixture.VIEWER)).get("intent").get("active")
                    .asText());
            assertEquals(200, f.get("/readyz", null).statusCode());
        }
    }
}
