package io.intent.store.etcd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.EtcdCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SessionTest {
    private static EtcdCluster etcd;
    private static EtcdStore store;

    @BeforeAll
    static void up() {
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
    }

    @AfterAll
    static void down() {
        store.close();
        etcd.close();
    }

    @Test
    void everyUserGetsTheSameLeaseUntilItIsLostThenEachHearsOfTheLossAndANewLeaseFollows() {
        try (Session session = Session.open(store, Duration.ofSeconds(10))) {
            List<Long> heardA = new CopyOnWriteArrayList<>();
            List<Long> heardB = new CopyOnWriteArrayList<>();
            session.onLoss((lease, why) -> heardA.add(lease));
            session.onLoss((lease, why) -> heardB.add(lease));
            long first = session.lease();
            assertEquals(first, session.lease(), "one lease for the whole process");
            store.put("/intent-test/session/a", "x", first);

            store.revokeLease(first);
            // the keeper's next keep-alive (every TTL/3) hears that the lease is gone
            await().atMost(Duration.ofSeconds(8)).until(() -> heardA.size() == 1 && heardB.size() == 1);
            assertEquals(List.of(first), heardA);
            assertFalse(session.valid(first));
            long second = session.lease();
            assertNotEquals(first, second);
            assertTrue(session.valid(second));
            assertEquals(List.of(first), heardB, "each loss is told once");
        }
    }

    @Test
    void closeRevokesTheLeaseSoItsKeysGoAtOnce() {
        Session session = Session.open(store, Duration.ofSeconds(30));
        store.put("/intent-test/session/closed", "x", session.lease());
        session.close();
        assertTrue(store.get("/intent-test/session/closed", String.class).isEmpty());
        assertThrows(IllegalStateException.class, session::lease);
    }

    @Test
    void anAbandonedSessionLeavesItsKeysToExpireAfterTheTtlAndACloseAfterwardsRevokesNothing() {
        Session session = Session.open(store, Duration.ofSeconds(2));
        store.put("/intent-test/session/abandoned", "x", session.lease());
        session.abandon();
        session.close();
        assertTrue(store.get("/intent-test/session/abandoned", String.class).isPresent(), "left to a successor");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                store.get("/intent-test/session/abandoned", String.class).isEmpty());
    }

    @Test
    void aTtlUnderOneSecondIsRefusedNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> Session.open(store, Duration.ofMillis(500)));
        assertTrue(e.getMessage().contains("PT0.5S"), e.getMessage());
    }
}
