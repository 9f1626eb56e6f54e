package io.intent.agent.converge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM at many points of a real agent JVM's start-up: whenever a reconcile has begun, it finishes before the
 * process exits, and the process always exits promptly.
 */
class AgentStartupSigtermTest {
    static final int ROUNDS = 10;
    static final long RECONCILE_MS = 400;

    @TempDir
    Path dir;

    @Test
    void sigtermAnywhereInStartUpNeverCutsAReconcileOff() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            // the work is there before the agent starts, so its first reconcile begins as early as it can
            store.put(store.keys().assignment("h1", "web"), ConvergerTest.assignment("web", "1.0"));
            // round 0 measures when the reconcile begins; the others SIGTERM from 1/8 of that time to 5/4 of it
            long firstReconcileMs = measureStartToReconcile(etcd);
            List<String> outcomes = new ArrayList<>();
            for (int round = 1; round <= ROUNDS; round++) {
                long delay = firstReconcileMs * round / 8;
                outcomes.add(roundWithSigtermAfter(etcd, round, delay));
            }
            System.out.println("start-to-reconcile " + firstReconcileMs + " ms; rounds: " + outcomes);
        }
    }

    private long measureStartToReconcile(EtcdCluster etcd) throws Exception {
        Path root = dir.resolve("r0");
        long t0 = System.nanoTime();
        try (JvmProcess agent = start(etcd, root, 0)) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                    .failFast("agent exited:\n" + agent.output(), () -> !agent.alive())
                    .until(() -> Files.exists(root.resolve(".inflight-web")));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(agent.terminate(10), "agent did not exit on SIGTERM:\n" + agent.output());
            return ms;
        }
    }

    private String roundWithSigtermAfter(EtcdCluster etcd, int round, long delayMs) throws Exception {
        Path root = dir.resolve("r" + round);
        try (JvmProcess agent = start(etcd, root, round)) {
            // the SIGTERM comes after delayMs of start-up; until then the agent must not die on its own
            if (delayMs > 0) {
                await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).during(Duration.ofMillis(delayMs))
                        .atMost(Duration.ofMillis(delayMs + 10_000)).until(agent::alive);
            }
            long t0 = System.nanoTime();
            assertTrue(agent.terminate(10), "round " + round + " (SIGTERM after " + delayMs
                    + " ms): agent did not exit within 10 s:\n" + agent.output());
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            boolean begun = Files.exists(root.resolve(".inflight-web"));
            if (begun) {
                assertEquals("1.0", Files.exists(root.resolve("web")) ? Files.readString(root.resolve("web")) : null,
                        "round " + round + " (SIGTERM after " + delayMs + " ms): the reconcile in flight was cut off;"
                                + " exit code " + agent.exitCode() + ", output:\n" + agent.output());
            }
            return delayMs + "ms:" + (begun ? "finished" : "not-begun") + "/stop " + stopMs + "ms";
        }
    }

    private JvmProcess start(EtcdCluster etcd, Path root, int round) throws Exception {
        Files.createDirectories(root);
        // the default http port (a free one) keeps the /metrics server in start-up, as in production
        return JvmProcess.start(FileAgentMain.class, List.of("--host", "h1", "--root", root.toString(), "--etcd",
                etcd.endpoint(0), "--liveness-ttl", "30", "--resync", "60"),
                Map.of("RECONCILE_SLEEP_MS", Long.toString(RECONCILE_MS)), dir.resolve("agent-" + round + ".log"));
    }
}
