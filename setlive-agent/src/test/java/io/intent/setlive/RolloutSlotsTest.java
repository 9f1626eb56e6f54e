package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.Session;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Endpoint;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Prerequisites;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rollout semaphore on real etcd, with the leader's {@link io.intent.dispatcher.HostSteward} granting: bounded
 * by the assigned maxUnavailable, the endpoint withdrawn only with a slot, freed by a dead agent.
 */
class RolloutSlotsTest {
    static EtcdCluster etcd;
    static EtcdStore store;
    static io.intent.dispatcher.HostSteward steward;
    /** How long a test waits for a grant it expects: generous, for a loaded machine. */
    static final Duration GRANT = Duration.ofSeconds(10);

    @BeforeAll
    static void start() {
        Prerequisites.require("etcd", "etcd-server");
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
        steward = SetliveFixture.steward(store);
    }

    @AfterAll
    static void stop() {
        if (steward != null) {
            steward.close();
        }
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

    /** The lease of one simulated host's process: each host here is a process of its own. */
    private static Session lease(EtcdStore on, int ttlSeconds) {
        return Session.open(on, Duration.ofSeconds(ttlSeconds));
    }

    /** Assigns {@code app} to {@code hosts} with the given maxUnavailable, as the leader would. */
    private static void assign(String app, Integer maxUnavailable, String... hosts) {
        AppIntent intent = new AppIntent(Map.of("1", new VersionSpec("file:///srv/a.tar.gz", "a".repeat(64), null,
                null)), "1", new RunSpec(List.of("bin/server"), Map.of(), null), List.of(), hosts.length, null, null,
                null, null, null, maxUnavailable);
        for (String h : hosts) {
            store.put(store.keys().assignment(h, app), new Assignment(app, h, 1, intent));
        }
    }

    @Test
    void aGrantedSlotWithdrawsTheEndpointAndARefusedOneTouchesNothing() throws Exception {
        assign("web", null, "a", "b");
        RolloutSlots a = new RolloutSlots(store, "a", lease(store, 10));
        RolloutSlots b = new RolloutSlots(store, "b", lease(store, 10));
        endpoint("web", "a");
        endpoint("web", "b");

        assertTrue(a.acquire("web", "2", List.of(Op.delete(store.keys().endpoint("web", "a"))), GRANT));
        assertTrue(store.get(store.keys().endpoint("web", "a"), Endpoint.class).isEmpty());
        assertTrue(a.acquire("web", "2", List.of(), GRANT), "a host keeps the slot it holds");

        assertFalse(b.acquire("web", "2", List.of(Op.delete(store.keys().endpoint("web", "b")))));
        assertTrue(store.get(store.keys().endpoint("web", "b"), Endpoint.class).isPresent(),
                "no slot, so b's endpoint stays");

        a.release("web");
        assertTrue(b.acquire("web", "2", List.of(), GRANT));
        await().atMost(Duration.ofSeconds(10)).until(() -> store.count(store.keys().slotsPrefix() + "a/") == 0);
        b.release("web");
        await().atMost(Duration.ofSeconds(10)).until(() -> store.count(store.keys().slotsPrefix()) == 0
                && store.count(store.keys().rolloutPrefix()) == 0);
    }

    @Test
    void maxUnavailableTwoLetsTwoHostsGoButNotThree() throws Exception {
        assign("api", 2, "h0", "h1", "h2");
        RolloutSlots[] hosts = new RolloutSlots[3];
        for (int i = 0; i < 3; i++) {
            hosts[i] = new RolloutSlots(store, "h" + i, lease(store, 10));
        }
        assertTrue(hosts[0].acquire("api", "2", List.of(), GRANT));
        assertTrue(hosts[1].acquire("api", "2", List.of(), GRANT));
        assertFalse(hosts[2].acquire("api", "2", List.of()));
        hosts[0].release("api");
        assertTrue(hosts[2].acquire("api", "2", List.of(), GRANT));
        hosts[1].release("api");
        hosts[2].release("api");
    }

    @Test
    void aHostIsNeverGrantedASlotOfAnAppItIsNotAssigned() throws Exception {
        assign("solo", null, "mine");
        RolloutSlots stranger = new RolloutSlots(store, "stranger", lease(store, 10));
        assertFalse(stranger.acquire("solo", "2", List.of()));
        RolloutSlots mine = new RolloutSlots(store, "mine", lease(store, 10));
        assertTrue(mine.acquire("solo", "2", List.of(), GRANT), "the stranger's request took no slot");
        mine.release("solo");
        stranger.release("solo");
    }

    @Test
    void aDeadAgentsSlotFreesItselfWhenItsLeaseExpires() throws Exception {
        assign("db", null, "dying", "next");
        try (EtcdStore doomed = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            RolloutSlots dying = new RolloutSlots(doomed, "dying", lease(doomed, 2));
            assertTrue(dying.acquire("db", "2", List.of(), GRANT));
        }
        RolloutSlots next = new RolloutSlots(store, "next", lease(store, 10));
        assertFalse(next.acquire("db", "2", List.of()));
        await().atMost(Duration.ofSeconds(15)).until(() -> next.acquire("db", "2", List.of()));
        next.release("db");
    }

    @Test
    void aHostWaitingForASlotIsWokenByTheGrantWithoutAskingAgain() throws Exception {
        assign("queue", null, "holder", "waiter");
        RolloutSlots holder = new RolloutSlots(store, "holder", lease(store, 10));
        RolloutSlots waiter = new RolloutSlots(store, "waiter", lease(store, 10));
        java.util.concurrent.BlockingQueue<String> woken = new java.util.concurrent.LinkedBlockingQueue<>();
        waiter.onGrant(woken::add);
        try {
            assertTrue(holder.acquire("queue", "2", List.of(), GRANT));
            assertFalse(waiter.acquire("queue", "2", List.of()), "the slot is taken");
            assertEquals(null, woken.poll(300, java.util.concurrent.TimeUnit.MILLISECONDS),
                    "nothing wakes the waiter while the slot is held");

            long released = System.nanoTime();
            holder.release("queue");
            // no acquire in between: the leader's grant reaches the waiter through its watch of slots/waiter/
            assertEquals("queue", woken.poll(10, java.util.concurrent.TimeUnit.SECONDS));
            long wokenMs = (System.nanoTime() - released) / 1_000_000;
            assertTrue(waiter.acquire("queue", "2", List.of(), Duration.ZERO),
                    "once woken, the grant is already known: no wait");
            System.out.println("waiter woken " + wokenMs + " ms after the release");
        } finally {
            waiter.release("queue");
            holder.release("queue");
            waiter.close();
            holder.close();
        }
    }

    @Test
    void aHostAskingAgainOnANewLeaseIsGrantedItsSlotAgain() throws Exception {
        assign("again", null, "restarted", "other");
        RolloutSlots before = new RolloutSlots(store, "restarted", lease(store, 10));
        assertTrue(before.acquire("again", "2", List.of(), GRANT));
        // the agent restarts: the same request key, asked again on the new agent's lease; the old grant no longer
        // holds and the new one goes to the same slot key
        RolloutSlots after = new RolloutSlots(store, "restarted", lease(store, 10));
        try {
            assertTrue(after.acquire("again", "2", List.of(), GRANT));
        } finally {
            after.release("again");
            after.close();
            before.close();
        }
    }
}
