package io.intent.store.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.intent.store.model.HostSpec;
import io.intent.store.model.Resources;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Ports;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EtcdStoreTest {
    static EtcdCluster etcd;
    static EtcdStore store;

    @BeforeAll
    static void start() {
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
    }

    @AfterAll
    static void stop() {
        store.close();
        etcd.close();
    }

    static HostSpec spec(String zone) {
        return new HostSpec(Map.of("zone", zone), new Resources(2, 1024), "127.0.0.2", false);
    }

    @Test
    void typedValuesRoundTripThroughEtcd() {
        store.put("/t1/hosts/a", spec("a"));
        store.put("/t1/hosts/b", spec("b"));
        var got = store.get("/t1/hosts/a", HostSpec.class).orElseThrow();
        assertEquals(spec("a"), got.value());
        assertTrue(got.modRevision() > 0);
        var snap = store.list("/t1/hosts/", HostSpec.class);
        assertEquals(List.of("/t1/hosts/a", "/t1/hosts/b"), snap.entries().stream().map(Entry::key).toList());
        assertTrue(snap.revision() >= got.modRevision());
        assertTrue(store.delete("/t1/hosts/a"));
        assertFalse(store.delete("/t1/hosts/a"));
        assertTrue(store.get("/t1/hosts/a", HostSpec.class).isEmpty());
    }

    @Test
    void aMalformedValueSurfacesAsAnInvalidEntryAndHidesNothingElse() {
        store.putBytes("/t2/hosts/bad", "{\"labels\": {".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes("/t2/hosts/alien", "{\"labels\":{},\"cpus\":4}".getBytes(StandardCharsets.UTF_8), 0);
        store.put("/t2/hosts/good", spec("a"));
        var byKey = store.list("/t2/hosts/", HostSpec.class).byKey();
        assertEquals(3, byKey.size());
        assertFalse(byKey.get("/t2/hosts/bad").valid());
        assertTrue(byKey.get("/t2/hosts/bad").error().startsWith("malformed JSON"), byKey.get("/t2/hosts/bad").error());
        assertEquals("unknown field 'cpus' (at cpus)", byKey.get("/t2/hosts/alien").error());
        assertTrue(byKey.get("/t2/hosts/good").valid());
        var ex = assertThrows(io.intent.store.codec.InvalidValueException.class,
                () -> byKey.get("/t2/hosts/bad").require());
        assertTrue(ex.getMessage().startsWith("/t2/hosts/bad: "), ex.getMessage());
    }

    @Test
    void compareAndSetConflictsAreDetected() {
        String k = "/t3/hosts/a";
        assertTrue(store.putIf(k, spec("a"), 0), "create when absent");
        assertFalse(store.putIf(k, spec("b"), 0), "second create must conflict");
        long rev = store.get(k, HostSpec.class).orElseThrow().modRevision();
        assertTrue(store.putIf(k, spec("c"), rev), "update at the current revision");
        assertFalse(store.putIf(k, spec("d"), rev), "update at a stale revision must conflict");
        assertEquals(spec("c"), store.get(k, HostSpec.class).orElseThrow().value());
        long created = store.get(k, HostSpec.class).orElseThrow().createRevision();
        assertTrue(store.putIfCreated(k, spec("c"), created), "same incarnation of the key");
        store.delete(k);
        store.put(k, spec("c"));
        assertFalse(store.putIfCreated(k, spec("e"), created), "a re-created key is another incarnation");
        rev = store.get(k, HostSpec.class).orElseThrow().modRevision();
        assertFalse(store.deleteIf(k, rev - 1));
        long now = store.get(k, HostSpec.class).orElseThrow().modRevision();
        assertTrue(store.deleteIf(k, now));
    }

    @Test
    void aWriteExpectingARevisionAnswersItsOwnRevisionAndWhetherTheKeyExisted() {
        byte[] v = "{}".getBytes(StandardCharsets.UTF_8);
        assertFalse(store.putExpecting("/t9/k", v, EtcdStore.EXISTING).applied(), "must exist, and does not");
        var created = store.putExpecting("/t9/k", v, 0);
        assertTrue(created.applied());
        assertFalse(created.existed());
        assertEquals(created.revision(), store.get("/t9/k", Map.class).orElseThrow().modRevision());
        assertFalse(store.putExpecting("/t9/k", v, 0).applied(), "must not exist, and does");
        var updated = store.putExpecting("/t9/k", v, created.revision());
        assertTrue(updated.applied() && updated.existed());
        assertEquals(created.revision(), store.get("/t9/k", Map.class, created.revision()).orElseThrow()
                .modRevision(), "the key as it was at the first write");
        assertTrue(store.putExpecting("/t9/k", v, EtcdStore.UNCONDITIONAL).applied());
        assertFalse(store.deleteExpecting("/t9/k", created.revision()).applied(), "a stale revision deletes nothing");
        var deleted = store.deleteExpecting("/t9/k", EtcdStore.EXISTING);
        assertTrue(deleted.applied() && deleted.existed());
        assertTrue(store.get("/t9/k", Map.class).isEmpty());
    }

    @Test
    void electionsListEveryCandidateInCreateRevisionOrder() {
        store.putBytes("/t10/leader/main/b", "second".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes("/t10/leader/main/a", "first?".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes("/t10/leader/other/x", "{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes("/t10/leader/stray", "no election".getBytes(StandardCharsets.UTF_8), 0);
        var e = store.elections("/t10/leader/");
        assertEquals(List.of("/t10/leader/main/b", "/t10/leader/main/a"),
                e.candidates().get("/t10/leader/main").stream().map(Entry::key).toList());
        assertEquals("second", e.leaderOf("/t10/leader/main").orElseThrow().value());
        assertEquals("{\"name\":\"x\"}", e.leaderOf("/t10/leader/other").orElseThrow().value());
        assertEquals(2, e.candidates().size(), "a key right under the prefix is no election");
        assertTrue(e.leaderOf("/t10/leader/none").isEmpty());
    }

    @Test
    void aStaleFencingTokenIsRejectedAndWritesNothing() {
        String leaderKey = "/t4/leader/dispatcher/1";
        store.put(leaderKey, Map.of("who", "a"));
        Fence first = new Fence(leaderKey, store.get(leaderKey, Map.class).orElseThrow().createRevision());
        assertTrue(store.commit(first, List.of(Op.put("/t4/assign/h1/web", spec("x")))));

        // leadership changes hands: the key is deleted and created again by someone else
        store.delete(leaderKey);
        store.put(leaderKey, Map.of("who", "b"));
        Fence second = new Fence(leaderKey, store.get(leaderKey, Map.class).orElseThrow().createRevision());
        assertTrue(second.createRevision() > first.createRevision());

        assertFalse(store.commit(first, List.of(Op.put("/t4/assign/h1/web", spec("stale")),
                Op.put("/t4/assign/h2/web", spec("stale")), Op.delete("/t4/assign/h3/web"))));
        assertThrows(IllegalArgumentException.class, () -> store.commit(second, List.of(
                Op.put("/t4/assign/h1/web", spec("a")), Op.delete("/t4/assign/h1/web"))));
        assertEquals(spec("x"), store.get("/t4/assign/h1/web", HostSpec.class).orElseThrow().value());
        assertTrue(store.get("/t4/assign/h2/web", HostSpec.class).isEmpty());

        assertTrue(store.commit(second, List.of(Op.put("/t4/assign/h2/web", spec("fresh")))));
        store.delete(leaderKey);
        assertFalse(store.commit(second, List.of(Op.put("/t4/assign/h3/web", spec("gone")))),
                "a fence whose key is gone must not hold");
    }

    @Test
    void leasedKeysLiveWhileKeptAliveAndGoWhenNot() throws Exception {
        long lease = store.grantLease(Duration.ofSeconds(2));
        store.put("/t5/live/h1", Map.of("up", true), lease);
        AtomicBoolean lost = new AtomicBoolean();
        LeaseKeeper keeper = store.keepAlive(lease, Duration.ofSeconds(2), () -> lost.set(true));
        await("kept alive past its TTL").during(Duration.ofMillis(3500)).atMost(Duration.ofSeconds(10))
                .until(() -> store.get("/t5/live/h1", Map.class).isPresent());
        assertTrue(keeper.valid());
        keeper.close();
        await().atMost(Duration.ofSeconds(6)).until(() -> store.get("/t5/live/h1", Map.class).isEmpty());
        assertFalse(lost.get(), "closing is not losing");

        long other = store.grantLease(Duration.ofSeconds(30));
        store.put("/t5/live/h2", Map.of("up", true), other);
        store.revokeLease(other);
        assertTrue(store.get("/t5/live/h2", Map.class).isEmpty(), "revoke deletes at once");
        store.revokeLease(other); // unknown lease: not an error
    }

    @Test
    void aKeeperReportsTheLeaseLostWhenEtcdRevokesIt() {
        long lease = store.grantLease(Duration.ofSeconds(5));
        AtomicBoolean lost = new AtomicBoolean();
        LeaseKeeper keeper = store.keepAlive(lease, Duration.ofSeconds(3), () -> lost.set(true));
        store.revokeLease(lease);
        await().atMost(Duration.ofSeconds(5)).untilTrue(lost);
        assertFalse(keeper.valid());
    }

    @Test
    void callsToAnEndpointWhereNothingListensFailWithinTheirBudget() {
        var cfg = EtcdConfig.of("http://127.0.0.1:" + Ports.free()).withCallTimeout(Duration.ofMillis(500));
        try (EtcdStore dead = EtcdStore.connect(cfg)) {
            long t0 = System.nanoTime();
            var ex = assertThrows(StoreException.class, () -> dead.put("/t6/x", Map.of()));
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue(ex.isTransient(), ex.getMessage());
            assertTrue(ex.getMessage().startsWith("put /t6/x failed after "), ex.getMessage());
            assertTrue(secs < 5, "took " + secs + " s");
        }
    }

    @Test
    void aPrefixListAndDeleteCoverOnlyThatPrefix() {
        store.put("/t7/a/1", Map.of());
        store.put("/t7/a/2", Map.of());
        store.put("/t7/ab/1", Map.of());
        assertEquals(2, store.count("/t7/a/"));
        assertEquals(2, store.deletePrefix("/t7/a/"));
        assertEquals(1, store.count("/t7/ab/"));
    }
}
