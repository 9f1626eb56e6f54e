package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.model.Endpoint;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Prerequisites;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The rollout semaphore on real etcd: bounded, atomic with the endpoint withdrawal, freed by a dead agent. */
class RolloutSlotsTest {
    static EtcdCluster etcd;
    static EtcdStore store;

    @BeforeAll
    static void start() {
        Prerequisites.require("etcd", "etcd-server");
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
    }

    @AfterAll
    static void stop() {
        if (store != null) {
            store.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    private static void endpoint(String app, String host) {
        store.put(store.keys().endpoint(app, host), new Endpoint(app, host, "127.0.0.9", "1", Map.of("http", 80),
                Instant.now()));
    }

    @Test
    void aTakenSlotWithdrawsTheEndpointInTheSameTransactionAndARefusedOneTouchesNothing() {
        RolloutSlots a = new RolloutSlots(store, "a", new AgentLease(store, Duration.ofSeconds(10)));
        RolloutSlots b = new RolloutSlots(store, "b", new AgentLease(store, Duration.ofSeconds(10)));
        endpoint("web", "a");
        endpoint("web", "b");

        assertTrue(a.acquire("web", "2", 1, List.of(Op.delete(store.keys().endpoint("web", "a")))));
        assertTrue(store.get(store.keys().endpoint("web", "a"), Endpoint.class).isEmpty());
        assertTrue(a.acquire("web", "2", 1, List.of()), "a host keeps the slot it holds");

        assertFalse(b.acquire("web", "2", 1, List.of(Op.delete(store.keys().endpoint("web", "b")))));
        assertTrue(store.get(store.keys().endpoint("web", "b"), Endpoint.class).isPresent(),
                "no slot, so b's endpoint stays");
        assertEquals("a", a.holders("web"));

        a.release("web");
        assertTrue(b.acquire("web", "2", 1, List.of()));
        assertEquals(1, store.count(store.keys().rolloutPrefix("web")));
        b.release("web");
        assertEquals(0, store.count(store.keys().rolloutPrefix("web")));
    }

    @Test
    void maxUnavailableTwoLetsTwoHostsGoButNotThree() {
        RolloutSlots[] hosts = new RolloutSlots[3];
        for (int i = 0; i < 3; i++) {
            hosts[i] = new RolloutSlots(store, "h" + i, new AgentLease(store, Duration.ofSeconds(10)));
        }
        assertTrue(hosts[0].acquire("api", "2", 2, List.of()));
        assertTrue(hosts[1].acquire("api", "2", 2, List.of()));
        assertFalse(hosts[2].acquire("api", "2", 2, List.of()));
        hosts[0].release("api");
        assertTrue(hosts[2].acquire("api", "2", 2, List.of()));
        hosts[1].release("api");
        hosts[2].release("api");
    }

    @Test
    void aDeadAgentsSlotFreesItselfWhenItsLeaseExpires() {
        try (EtcdStore doomed = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            RolloutSlots dying = new RolloutSlots(doomed, "dying", new AgentLease(doomed, Duration.ofSeconds(2)));
            assertTrue(dying.acquire("db", "2", 1, List.of()));
        }
        RolloutSlots next = new RolloutSlots(store, "next", new AgentLease(store, Duration.ofSeconds(10)));
        assertFalse(next.acquire("db", "2", 1, List.of()));
        await().atMost(Duration.ofSeconds(15)).until(() -> next.acquire("db", "2", 1, List.of()));
        next.release("db");
    }
}
