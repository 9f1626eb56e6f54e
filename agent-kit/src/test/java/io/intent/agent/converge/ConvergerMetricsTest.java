package io.intent.agent.converge;

import static io.intent.testkit.PrometheusText.bucketsOf;
import static io.intent.testkit.PrometheusText.count;
import static io.intent.testkit.PrometheusText.cumulative;
import static io.intent.testkit.PrometheusText.les;
import static io.intent.testkit.PrometheusText.sum;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.daemon.ProcessMetrics;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.intent.testkit.EtcdCluster;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's reconcile duration and converge latency histograms, as Prometheus scrapes them: the documented
 * buckets, and observations of the reconciles that really ran (each takes at least the reconciler's 40 ms).
 */
class ConvergerMetricsTest {
    @TempDir
    Path dir;

    @Test
    void reconcileDurationAndConvergeLatencyAreHistogramsThatObserveTheRealReconciles() throws Exception {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            ConvergerTest.FileReconciler reconciler = new ConvergerTest.FileReconciler(Files.createDirectory(
                    dir.resolve("files")));
            reconciler.sleepMillis = 40;
            var keys = store.keys();
            store.put(keys.assignment("h1", "web"), ConvergerTest.assignment("web", "1.0"));
            try (var kit = new Converger<>(store, "h1", keys.assignSlice("h1"), io.intent.store.model.Assignment.class,
                    reconciler, ConvergerTest.fast().withResync(Duration.ofMinutes(5)), metrics).start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> store.get(keys.status("h1", "web", "files"),
                        AgentStatus.class).map(e -> e.value().phase() == Phase.READY).orElse(false));
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> count(metrics.scrape(), "intent_converge_seconds") >= 1);
                String scrape = metrics.scrape();

                assertTrue(scrape.contains("# TYPE intent_reconcile_seconds histogram"), scrape);
                assertEquals(les(ProcessMetrics.RECONCILE_BUCKETS), bucketsOf(scrape, "intent_reconcile_seconds"));
                double reconciles = count(scrape, "intent_reconcile_seconds");
                assertTrue(reconciles >= 1, scrape);
                assertTrue(sum(scrape, "intent_reconcile_seconds") >= 0.04 * reconciles, scrape);
                // 40 ms each: none in the 5, 10 or 25 ms buckets, every one within 300 s
                assertEquals(0, cumulative(scrape, "intent_reconcile_seconds", "0.025"), scrape);
                assertEquals(reconciles, cumulative(scrape, "intent_reconcile_seconds", "300.0"), scrape);

                assertTrue(scrape.contains("# TYPE intent_converge_seconds histogram"), scrape);
                assertEquals(les(ProcessMetrics.CONVERGE_BUCKETS), bucketsOf(scrape, "intent_converge_seconds"));
                assertEquals(1, count(scrape, "intent_converge_seconds"), "one revision converged once: " + scrape);
                assertTrue(sum(scrape, "intent_converge_seconds") >= 0.04, "it includes the reconcile: " + scrape);
            }
        }
    }
}
