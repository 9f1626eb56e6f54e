package io.intent.leader;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.dispatcher.LeaderTerm;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.Assignment;
import io.intent.testkit.EtcdCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A leader paused (SIGSTOP) past its lease wakes up believing it still leads: the candidates here run in
 * fence-only mode ({@link FenceOnlyLeaderMain}: no one hears that the lease is lost), so nothing but the fence
 * stops them. The standby has taken over and changed the
 * assignments meanwhile; the woken leader's writes are refused, and etcd's history proves none landed.
 */
class FencingTest {
    private static final int TTL = 2;
    private static final int ROUNDS = 5;
    private static final String REJECTED = "intent_dispatcher_rejected_writes_total";

    private static String leaderName(EtcdStore store) {
        return LeaderElection.whoLeads(store).map(LeaderElection.Leader::name).orElse(null);
    }

    @Test
    void aPausedLeaderThatWakesUpAfterItsLeaseExpiredWritesNothing() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             LeaderJvms jvms = new LeaderJvms(FenceOnlyLeaderMain.class, etcd.endpoints(),
                     List.of("--lease-ttl", Integer.toString(TTL), "--coalesce-ms", "20"))) {
            var keys = store.keys();
            jvms.hosts(store, 4);
            jvms.start("a");
            await().atMost(Duration.ofSeconds(30)).until(() -> "a".equals(leaderName(store)));
            jvms.start("b");
            // written after both started: should a starved leader have lost its lease already (a loaded machine),
            // this change makes the zombie try a write, be refused, and campaign again
            store.put(keys.app("web"), Intents.app(2));
            await().atMost(Duration.ofSeconds(60)).until(() -> store.count(keys.assignPrefix()) == 2
                    && store.count(keys.election() + "/") == 2);

            for (int round = 1; round <= ROUNDS; round++) {
                String old = leaderName(store);
                String next = old.equals("a") ? "b" : "a";
                double rejectedBefore = jvms.metric(old, REJECTED);
                assertTrue(rejectedBefore >= 0, old + " answers /metrics");

                jvms.get(old).process().pause();
                await().atMost(Duration.ofSeconds(TTL + 15)).until(() -> next.equals(leaderName(store)));
                // the new leader changes assignments: a new app, and web scaled to a different size
                String app = "round-" + round;
                store.put(keys.app(app), Intents.app(2));
                int webScale = round % 2 == 0 ? 2 : 3;
                store.put(keys.app("web"), Intents.app(webScale));
                await().atMost(Duration.ofSeconds(15)).until(() ->
                        store.list(keys.assignPrefix(), Assignment.class).entries().stream()
                                .filter(e -> e.key().endsWith("/" + app)).count() == 2
                        && store.list(keys.assignPrefix(), Assignment.class).entries().stream()
                                .filter(e -> e.key().endsWith("/web")).count() == webScale
                        && store.get(LeaderTerm.key(keys), LeaderTerm.class).orElseThrow().value().leader()
                                .equals(next));

                jvms.get(old).process().resume();
                // the woken leader acts on what it missed, and etcd refuses it
                await().atMost(Duration.ofSeconds(20)).until(() -> jvms.metric(old, REJECTED) > rejectedBefore);
                await().atMost(Duration.ofSeconds(20)).until(() -> store.count(keys.election() + "/") == 2);
                assertEquals(next, leaderName(store));
            }

            var history = History.read(store, keys.root() + "/");
            Map<Long, Integer> writesByFence = History.auditDispatchWrites(history, keys);
            System.out.printf("fencing audit: %d revisions of history, dispatch writes by fence revision %s%n",
                    history.stream().mapToLong(History.Event::revision).max().orElse(0), writesByFence);
            // every round's new leader wrote (more terms only if a starved leader lost its lease on its own)
            assertTrue(writesByFence.size() >= ROUNDS + 1, "one writing term per leader: " + writesByFence);
            double rejected = jvms.metric("a", REJECTED) + jvms.metric("b", REJECTED);
            assertTrue(rejected >= ROUNDS, "every woken leader tried and was refused: " + rejected);
        }
    }
}
