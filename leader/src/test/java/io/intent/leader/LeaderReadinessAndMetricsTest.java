package io.intent.leader;

import static io.intent.testkit.PrometheusText.bucketsOf;
import static io.intent.testkit.PrometheusText.count;
import static io.intent.testkit.PrometheusText.cumulative;
import static io.intent.testkit.PrometheusText.les;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.daemon.ProcessMetrics;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.testkit.EtcdCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A leader candidate's HTTP face as Prometheus and a load balancer see it: {@code /readyz} means "etcd answers and
 * somebody leads" (it follows etcd going away and coming back), and {@code /metrics} carries the dispatch round
 * and etcd call histograms with their documented buckets, counting the work the leader really did.
 */
class LeaderReadinessAndMetricsTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private HttpResponse<String> get(LeaderJvms.Candidate c, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.httpPort() + path))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            return null;
        }
    }

    private int readyz(LeaderJvms.Candidate c) {
        var r = get(c, "/readyz");
        return r == null ? -1 : r.statusCode();
    }

    @Test
    void readyzGoesNotReadyWhenEtcdStopsAndReadyAgainWhenItIsBack() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             LeaderJvms jvms = new LeaderJvms(etcd.endpoints(), List.of("--lease-ttl", "2", "--etcd-timeout", "1"))) {
            var a = jvms.start("a");
            await().atMost(Duration.ofSeconds(60)).until(() -> readyz(a) == 200);
            String body = get(a, "/readyz").body();
            assertTrue(body.contains("\"leads\":\"a\""), body);

            etcd.kill(0);
            await().atMost(Duration.ofSeconds(60)).until(() -> readyz(a) == 503);
            var down = get(a, "/readyz");
            assertTrue(down.body().contains("etcd unreachable") || down.body().contains("no leader"), down.body());
            assertEquals(200, get(a, "/healthz").statusCode(), "alive while etcd is away: no restart wanted");

            etcd.restart(0);
            // ready again, and (its lease having run out while etcd was away) leading again after a new campaign
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                var r = get(a, "/readyz");
                return r != null && r.statusCode() == 200 && r.body().contains("\"leader\":true")
                        && r.body().contains("\"leads\":\"a\"");
            });
        }
    }

    @Test
    void metricsHaveTheDispatchRoundAndEtcdCallHistogramsWithTheirBucketsCountingRealWork() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             LeaderJvms jvms = new LeaderJvms(etcd.endpoints(), List.of("--lease-ttl", "2", "--coalesce-ms", "20"))) {
            jvms.hosts(store, 2);
            var a = jvms.start("a");
            await().atMost(Duration.ofSeconds(60)).until(() -> readyz(a) == 200);
            double roundsBefore = count(get(a, "/metrics").body(), "intent_dispatcher_round_seconds");
            store.put(store.keys().app("web"), Intents.app(2));
            await().atMost(Duration.ofSeconds(30)).until(() -> store.count(store.keys().assignPrefix()) == 2);
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    count(get(a, "/metrics").body(), "intent_dispatcher_round_seconds") > roundsBefore);

            String metrics = get(a, "/metrics").body();
            assertTrue(metrics.contains("# TYPE intent_dispatcher_round_seconds histogram"), metrics);
            assertEquals(les(ProcessMetrics.DISPATCH_BUCKETS), bucketsOf(metrics, "intent_dispatcher_round_seconds"));
            assertTrue(metrics.contains("# TYPE intent_etcd_request_seconds histogram"), metrics);
            assertEquals(les(io.intent.store.etcd.EtcdStore.ETCD_BUCKETS), bucketsOf(metrics, "intent_etcd_request_seconds"));
            // the leader's own etcd calls: campaigning, reading intents, writing the two assignments
            assertTrue(count(metrics, "intent_etcd_request_seconds") >= 3, metrics);
            // a round is quick on an idle fleet: it lands in a finite bucket, not only in +Inf
            assertTrue(cumulative(metrics, "intent_dispatcher_round_seconds", "+Inf")
                    >= count(metrics, "intent_dispatcher_round_seconds"), metrics);
            List<String> les = les(ProcessMetrics.DISPATCH_BUCKETS);
            assertTrue(cumulative(metrics, "intent_dispatcher_round_seconds", les.get(les.size() - 2)) >= 1, metrics);
        }
    }
}
