package io.intent.agent.converge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.daemon.AgentServer;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.Session;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Resources;
import io.intent.testkit.EtcdCluster;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HostPresenceTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void aHostPublishesItsRegistrationNeverItsSpecAndStaysLiveUntilItStops() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single(); EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            var keys = store.keys();
            HostSpec detected = HostPresence.detect("127.0.0.2", Map.of("zone", "a"));
            assertTrue(detected.capacity().cpu() >= 1 && detected.capacity().memoryMb() > 0);

            Session firstSession = Session.open(store, Duration.ofSeconds(2));
            HostPresence first = HostPresence.start(firstSession, "h1", detected, "test");
            await().atMost(WAIT).until(() -> store.get(keys.live("h1"), Liveness.class).isPresent());
            // the host writes only its own registration key; copying it to hosts/h1 (once) is the leader's job
            assertEquals(detected, store.get(keys.registration("h1"), HostSpec.class).orElseThrow().value());
            assertTrue(store.get(keys.host("h1"), HostSpec.class).isEmpty());

            // an operator edits the spec; a restarted agent must not overwrite it
            HostSpec edited = detected.withDrain(true);
            store.put(keys.host("h1"), edited);
            first.close();
            firstSession.close();
            await().atMost(WAIT).until(() -> store.get(keys.live("h1"), Liveness.class).isEmpty());

            try (Session session = Session.open(store, Duration.ofSeconds(2));
                 HostPresence second = HostPresence.start(session, "h1", new HostSpec(Map.of(), new Resources(1, 1),
                    "127.0.0.9", false), "test")) {
                await().atMost(WAIT).until(() -> store.get(keys.live("h1"), Liveness.class).isPresent());
                assertEquals(edited, store.get(keys.host("h1"), HostSpec.class).orElseThrow().value());
                await().atMost(WAIT).until(() -> store.get(keys.registration("h1"), HostSpec.class).orElseThrow()
                        .value().address().equals("127.0.0.9"));
                // two TTLs: liveness must be kept, not expire
                await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
                        .until(() -> store.get(keys.live("h1"), Liveness.class).isPresent());
                Entry<Liveness> live = store.get(keys.live("h1"), Liveness.class).orElseThrow();
                assertEquals(ProcessHandle.current().pid(), live.value().pid());
                assertTrue(live.lease() != 0, "liveness is attached to a lease");

                // someone deletes the key by hand: presence puts it back
                store.delete(keys.live("h1"));
                await().atMost(WAIT).until(() -> store.get(keys.live("h1"), Liveness.class).isPresent());
            }
        }
    }

    @Test
    void whenTheSessionLosesItsLeaseLivenessIsPutBackOnTheNewLease() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single(); EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             Session session = Session.open(store, Duration.ofSeconds(3));
             HostPresence presence = HostPresence.start(session, "h1", HostPresence.detect("127.0.0.2", Map.of()),
                     "test")) {
            var keys = store.keys();
            await().atMost(WAIT).until(() -> store.get(keys.live("h1"), Liveness.class).isPresent());
            long old = store.get(keys.live("h1"), Liveness.class).orElseThrow().lease();

            store.revokeLease(old); // the lease is gone at the server, the liveness key with it
            // the session hears it on its next keep-alive (TTL/3) and tells presence, which re-puts the key at once
            await().atMost(Duration.ofSeconds(5)).until(() -> store.get(keys.live("h1"), Liveness.class)
                    .map(e -> e.lease() != old && e.lease() == session.lease()).orElse(false));
        }
    }

    @Test
    void theAgentServerAnswersHealthAndMetrics() throws Exception {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics.counter("intent_test_total").increment();
        try (AgentServer server = AgentServer.start("127.0.0.1", 0, metrics,
                () -> AgentAgentHealth.of(List.of()), () -> AgentHealth.readiness(List.of()))) {
            HttpClient http = HttpClient.newHttpClient();
            var health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.body().contains("\"status\":\"ok\""), health.body());
            var ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/readyz"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, ready.statusCode(), "a process without agents has nothing to be ready for");
            var scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(scrape.body().contains("intent_test_total 1.0"), scrape.body());
            var missing = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/nope"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, missing.statusCode());
        }
    }

    /** Adapts the runtime's health verdict for an agent-less server. */
    static final class AgentAgentHealth {
        static AgentServer.Health of(List<Converger<?>> none) {
            return AgentHealth.health(none);
        }
    }
}
