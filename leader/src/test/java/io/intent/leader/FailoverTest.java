package io.intent.leader;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.dispatcher.LeaderTerm;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.testkit.EtcdCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Two leader processes on a 3-member etcd: the standby takes over after the leader is killed or stops. */
class FailoverTest {
    private static final int TTL = 2;

    private static String leaderName(EtcdStore store) {
        return LeaderElection.whoLeads(store).map(LeaderElection.Leader::name).orElse(null);
    }

    private static boolean dispatchedBy(EtcdStore store, String app, String leader) {
        KeyLayout keys = store.keys();
        return store.count(keys.assignPrefix()) > 0
                && store.list(keys.assignPrefix(), Object.class).entries().stream()
                        .anyMatch(e -> e.key().endsWith("/" + app))
                && store.get(LeaderTerm.key(keys), LeaderTerm.class).map(e -> e.value().leader().equals(leader))
                        .orElse(false);
    }

    @Test
    void theStandbyTakesOverAfterTheLeaderIsKilledResignsOrIsPausedPastItsLease() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(3);
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             LeaderJvms jvms = new LeaderJvms(etcd.endpoints(), List.of("--lease-ttl", Integer.toString(TTL),
                     "--coalesce-ms", "20"))) {
            jvms.hosts(store, 3);
            store.put(store.keys().app("web"), Intents.app(2));
            jvms.start("a");
            await().atMost(Duration.ofSeconds(30)).until(() -> "a".equals(leaderName(store)));
            jvms.start("b");
            await().atMost(Duration.ofSeconds(30)).until(() -> dispatchedBy(store, "web", "a"));
            // b is campaigning: its election key exists
            await().atMost(Duration.ofSeconds(30)).until(() -> store.count(store.keys().election() + "/") == 2);

            long t0 = System.nanoTime();
            jvms.get("a").process().kill9();
            store.put(store.keys().app("after-crash"), Intents.app(1));
            await().atMost(Duration.ofSeconds(TTL + 15)).pollInterval(Duration.ofMillis(20))
                    .until(() -> dispatchedBy(store, "after-crash", "b"));
            double crash = (System.nanoTime() - t0) / 1e9;
            System.out.printf("failover after SIGKILL: %.3f s (lease TTL %d s)%n", crash, TTL);
            assertEquals("b", leaderName(store));
            assertTrue(crash < TTL + 5, "took " + crash + " s");

            // a comes back as the standby; then b is stopped with SIGTERM and resigns
            jvms.start("a2");
            await().atMost(Duration.ofSeconds(30)).until(() -> store.count(store.keys().election() + "/") == 2);
            long t1 = System.nanoTime();
            ProcessHandle.of(jvms.get("b").process().pid()).ifPresent(ProcessHandle::destroy);
            // once b's key is gone, b has stopped dispatching: the next app can only be placed by a2
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                    .until(() -> store.count(store.keys().election() + "/") == 1);
            store.put(store.keys().app("after-term"), Intents.app(1));
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(10))
                    .until(() -> dispatchedBy(store, "after-term", "a2"));
            double graceful = (System.nanoTime() - t1) / 1e9;
            System.out.printf("handover after SIGTERM: %.3f s%n", graceful);
            assertTrue(graceful < 3, "took " + graceful + " s");
            assertTrue(jvms.get("b").process().waitFor(15), "b exits on SIGTERM");
            assertTrue(jvms.logOf("b").contains("steps down: resigning"), jvms.logOf("b"));
            await().atMost(Duration.ofSeconds(10)).until(() -> jvms.metric("a2", "intent_leader_is_leader") == 1.0);
            assertTrue(jvms.health("a2").contains("\"leader\":true"), jvms.health("a2"));

            // a2 (normal mode) is paused past its lease: c takes over; a2 wakes up and steps down by itself
            jvms.start("c");
            await().atMost(Duration.ofSeconds(30)).until(() -> store.count(store.keys().election() + "/") == 2);
            jvms.get("a2").process().pause();
            await().atMost(Duration.ofSeconds(TTL + 15)).until(() -> "c".equals(leaderName(store)));
            store.put(store.keys().app("while-paused"), Intents.app(1));
            await().atMost(Duration.ofSeconds(15)).until(() -> dispatchedBy(store, "while-paused", "c"));
            jvms.get("a2").process().resume();
            await().atMost(Duration.ofSeconds(15)).until(() -> jvms.logOf("a2").contains("a2 steps down: lease lost"));
            await().atMost(Duration.ofSeconds(10)).until(() -> jvms.metric("a2", "intent_leader_is_leader") == 0.0);
            assertEquals(1.0, jvms.metric("c", "intent_leader_is_leader"));
            assertTrue(jvms.health("a2").contains("\"leader\":false"), jvms.health("a2"));

            var history = History.read(store, store.keys().root() + "/");
            Map<Long, Integer> writes = History.auditDispatchWrites(history, store.keys());
            assertTrue(writes.size() >= 4, "four terms wrote: " + writes);
        }
    }
}
