package io.intent.agent.converge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.Liveness;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real agent JVM: SIGTERM finishes in-flight work, leaves, and a restart picks up where it was. */
class AgentProcessTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void sigtermLetsTheReconcileInFlightFinishAndRevokesLiveness() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single(); EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            var keys = store.keys();
            Path root = dir.resolve("h1");
            List<String> args = List.of("--host", "h1", "--root", root.toString(), "--etcd", etcd.endpoint(0),
                    "--liveness-ttl", "30", "--resync", "60");
            try (JvmProcess agent = JvmProcess.start(FileAgentMain.class, args, Map.of("RECONCILE_SLEEP_MS", "3000"),
                    dir.resolve("agent.log"))) {
                await().atMost(WAIT).failFast("agent exited:\n" + agent.output(), () -> !agent.alive())
                        .until(() -> store.get(keys.live("h1"), Liveness.class).isPresent());
                store.put(keys.assignment("h1", "web"), ConvergerTest.assignment("web", "1.0"));
                try {
                    await().atMost(WAIT).until(() -> Files.exists(root.resolve(".inflight-web")));
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("the agent never started reconciling web; its output:\n"
                            + agent.output(), e);
                }

                long t0 = System.nanoTime();
                assertTrue(agent.terminate(30), "agent did not exit on SIGTERM:\n" + agent.output());
                double secs = (System.nanoTime() - t0) / 1e9;
                assertEquals("1.0", Files.exists(root.resolve("web")) ? Files.readString(root.resolve("web")) : null,
                        "the reconcile in flight at SIGTERM must complete:\n" + agent.output());
                assertTrue(store.get(keys.live("h1"), Liveness.class).isEmpty(),
                        "liveness must go at once (its lease revoked), not after the 30 s TTL");
                assertTrue(secs < 20, "shutdown took " + secs + " s");
            }

            // a restarted agent converges a change made while it was down
            store.put(keys.assignment("h1", "web"), ConvergerTest.assignment("web", "2.0"));
            try (JvmProcess again = JvmProcess.start(FileAgentMain.class, args, Map.of(),
                    dir.resolve("agent2.log"))) {
                await().atMost(WAIT).until(() -> Files.exists(root.resolve("web"))
                        && Files.readString(root.resolve("web")).equals("2.0"));
            }
        }
    }
}
