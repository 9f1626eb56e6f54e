package io.intent.dispatcher;

import static io.intent.dispatcher.Fixtures.app;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Op;
import java.util.List;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.testkit.EtcdCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The dispatcher against a real etcd: what lands under assign/ and placement/, and what never does. */
class DispatcherTest {
    private static final Duration GRACE = Duration.ofSeconds(2);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static EtcdCluster etcd;
    private static final AtomicInteger ROOTS = new AtomicInteger();

    private EtcdStore store;
    private KeyLayout keys;
    private Dispatcher dispatcher;
    private DispatchMetrics metrics;
    private SimpleMeterRegistry registry;
    private final AtomicInteger fenceLost = new AtomicInteger();
    private final Map<String, Long> leases = new HashMap<>();

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.single();
    }

    @AfterAll
    static void stopEtcd() {
        etcd.close();
    }

    @BeforeEach
    void connect(TestInfo info) {
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot("/t" + ROOTS.incrementAndGet()));
        keys = store.keys();
        registry = new SimpleMeterRegistry();
        metrics = new DispatchMetrics(registry);
    }

    @AfterEach
    void close() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        // a lease left to expire would change the revision under a later test
        leases.values().forEach(store::revokeLease);
        store.close();
    }

    /** Writes what setlive writes when an instance runs healthy for {@code revision}. */
    private void ready(String host, String app, long revision) {
        store.put(keys.status(host, app, "setlive"), new AgentStatus("setlive", Phase.READY, "1.0", revision,
                "live and healthy", 0, Instant.now(), null, Map.of()));
    }

    private Fence fence() {
        String key = keys.election() + "/test-" + ROOTS.get();
        long rev = store.put(key, Map.of("test", true));
        return new Fence(key, rev);
    }

    private void start(Fence fence) {
        dispatcher = Dispatcher.start(store, fence, "test", Dispatcher.Settings.defaults().withGrace(GRACE),
                metrics, f -> fenceLost.incrementAndGet());
    }

    private void host(String name, HostSpec spec) {
        store.put(keys.host(name), spec);
        live(name);
    }

    private void live(String name) {
        long lease = store.grantLease(Duration.ofSeconds(30));
        leases.put(name, lease);
        store.put(keys.live(name), new Liveness(name, "10.0.0.1", "test", 1, Instant.now()), lease);
    }

    private Map<Slot, Assignment> assignments() {
        Map<Slot, Assignment> out = new TreeMap<>();
        for (var e : store.list(keys.assignPrefix(), Assignment.class).entries()) {
            String[] p = e.key().substring(keys.assignPrefix().length()).split("/");
            out.put(new Slot(p[0], p[1]), e.value());
        }
        return out;
    }

    private Set<String> hostsOf(String app) {
        return assignments().keySet().stream().filter(s -> s.app().equals(app)).map(Slot::host)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private Placement placement(String app) {
        return store.get(keys.placement(app), Placement.class).map(e -> e.value()).orElse(null);
    }

    @Test
    void placesAppsOnLiveHostsAndPublishesTheirPlacement() {
        for (int i = 1; i <= 3; i++) {
            host("h" + i, Fixtures.host());
        }
        long rev = store.put(keys.app("web"), app(2));
        store.put(keys.app("api"), app(3));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 2 && hostsOf("api").size() == 3);
        Placement web = placement("web");
        assertNotNull(web);
        assertTrue(web.complete(), String.valueOf(web));
        assertEquals(rev, web.appRevision());
        assertEquals(hostsOf("web"), new TreeSet<>(web.hosts()));
        assignments().forEach((s, a) -> assertEquals(s.host(), a.host()));
        // the term stamp names the writer: the audit trail of the fencing tests
        LeaderTerm term = store.get(LeaderTerm.key(keys), LeaderTerm.class).orElseThrow().value();
        assertEquals(dispatcher.fence().createRevision(), term.fenceRevision());
    }

    @Test
    void aStandbyWritesNothingUntilItLeadsAndNothingAfterItStandsDown() throws Exception {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        store.put(keys.app("web"), app(2));
        dispatcher = Dispatcher.follow(store, "standby", Dispatcher.Settings.defaults().withGrace(GRACE), metrics,
                f -> fenceLost.incrementAndGet());
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                .until(() -> store.count(keys.assignPrefix()) + store.count(keys.placementPrefix()) == 0);
        assertFalse(dispatcher.leading());

        Fence first = fence();
        dispatcher.lead(first);
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 2);
        assertEquals(first, dispatcher.fence());

        assertTrue(dispatcher.standDown(first));
        assertFalse(dispatcher.leading());
        store.put(keys.app("api"), app(1));
        await("a standby that stood down writes nothing").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                .until(() -> hostsOf("api").isEmpty());

        Fence second = new Fence(first.key() + "-2", store.put(first.key() + "-2", Map.of()));
        dispatcher.lead(second);
        await().atMost(WAIT).until(() -> hostsOf("api").size() == 1);
        LeaderTerm term = store.get(LeaderTerm.key(keys), LeaderTerm.class).orElseThrow().value();
        assertEquals(second.createRevision(), term.fenceRevision());
        assertEquals(0, fenceLost.get());
    }

    @Test
    void aConvergedStoreGetsNoWrites() {
        host("h1", Fixtures.host());
        store.put(keys.app("web"), app(1));
        start(fence());
        await().atMost(WAIT).until(() -> placement("web") != null);
        await().atMost(WAIT).until(() -> metrics.plans() >= 1);
        double writes = metrics.writes();
        long before = store.revision();
        // a host spec rewritten with the same value and an unrelated app change trigger re-plans
        host("h1", Fixtures.host());
        double plans = metrics.plans();
        await().atMost(WAIT).until(() -> metrics.plans() > plans);
        assertEquals(writes, metrics.writes());
        assertTrue(store.list(keys.assignPrefix(), Assignment.class).entries().stream()
                .allMatch(e -> e.modRevision() <= before), "no assignment was rewritten");
        assertTrue(store.list(keys.placementPrefix(), Placement.class).entries().stream()
                .allMatch(e -> e.modRevision() <= before), "no placement was rewritten");
    }

    @Test
    void anIntentChangeRewritesItsAssignmentsWithTheNewRevision() {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        store.put(keys.app("web"), app(2));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 2);
        Set<String> on = hostsOf("web");
        long rev = store.put(keys.app("web"), Fixtures.withPorts(app(2), 8080));
        await().atMost(WAIT).until(() -> assignments().values().stream().allMatch(a -> a.appRevision() == rev));
        assertEquals(on, hostsOf("web"));
        assertEquals(8080, assignments().values().iterator().next().intent().ports().get(0).port());
    }

    @Test
    void aHostSilentPastTheGracePeriodIsReplacedBeforeItLosesItsInstanceAndAShortGapMovesNothing()
            throws Exception {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        host("h3", Fixtures.host());
        store.put(keys.app("web"), app(1));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 1);
        String first = hostsOf("web").iterator().next();
        long stable = store.get(keys.assignment(first, "web"), Assignment.class).orElseThrow().modRevision();

        // an agent restart: liveness gone until the dispatcher has seen it gone (its unreachable-hosts gauge), then
        // back well within the grace period
        store.revokeLease(leases.remove(first));
        await().atMost(GRACE).until(() -> registry.get("intent_dispatcher_unreachable_hosts").gauge().value() == 1);
        live(first);
        await().during(GRACE.plusMillis(500)).atMost(GRACE.plusSeconds(5))
                .until(() -> hostsOf("web").equals(Set.of(first)));
        assertEquals(stable, store.get(keys.assignment(first, "web"), Assignment.class).orElseThrow().modRevision(),
                "the assignment was not even rewritten");

        // the host dies for good: a replacement is placed, but the dead host's assignment stays until it is healthy
        long died = System.nanoTime();
        store.revokeLease(leases.remove(first));
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 2);
        double movedAfter = (System.nanoTime() - died) / 1e9;
        assertTrue(movedAfter >= GRACE.toMillis() / 1000.0 - 0.1, "moved after " + movedAfter + " s, before grace");
        String replacement = hostsOf("web").stream().filter(h -> !h.equals(first)).findFirst().orElseThrow();
        assertTrue(placement("web").pendingReason().startsWith("host " + first + " unreachable for "),
                placement("web").pendingReason());
        await().during(Duration.ofMillis(1500)).atMost(WAIT).until(() -> hostsOf("web").contains(first));

        long rev = store.get(keys.assignment(replacement, "web"), Assignment.class).orElseThrow().value()
                .appRevision();
        ready(replacement, "web", rev - 1);
        await().during(Duration.ofMillis(1000)).atMost(WAIT).until(() -> hostsOf("web").contains(first));
        ready(replacement, "web", rev);
        await().atMost(WAIT).until(() -> hostsOf("web").equals(Set.of(replacement)));
        assertNull(placement("web").pendingReason());
    }

    @Test
    void whenMostHostsVanishAtOnceNothingMovesUntilTheyAreBack() {
        for (int i = 1; i <= 3; i++) {
            host("h" + i, Fixtures.host());
        }
        store.put(keys.app("web"), app(1));
        store.put(keys.app("api"), app(2));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 1 && hostsOf("api").size() == 2);
        Map<Slot, Assignment> before = assignments();
        AtomicInteger deletes = new AtomicInteger();
        var audit = store.watchSlice(keys.assignPrefix(), Assignment.class, (changes, r, relisted) -> changes
                .forEach(c -> deletes.addAndGet(c.kind() == io.intent.store.etcd.SliceWatch.Kind.DELETE ? 1 : 0)));
        try {
            // two of three hosts (67 %) drop off at once: from the dispatcher's side, that could be its own partition
            store.revokeLease(leases.remove("h1"));
            store.revokeLease(leases.remove("h2"));
            await().atMost(WAIT).until(metrics::disruption);
            await().during(GRACE.plusSeconds(1)).atMost(WAIT.plus(GRACE)).until(() -> assignments().keySet()
                    .equals(before.keySet()));
            assertEquals(0, deletes.get());
            Placement api = placement("api");
            assertTrue(api.pendingReason() != null && api.pendingReason().contains("disruption mode: 2 of 3 hosts"
                    + " unreachable (over 55 %)"), String.valueOf(api));

            // one comes back: 1 of 3 is under the threshold, so the remaining dead host is evacuated again
            live("h1");
            await().atMost(WAIT).until(() -> !metrics.disruption());
            await().atMost(WAIT).until(() -> before.keySet().stream().filter(s -> s.host().equals("h2"))
                    .allMatch(s -> hostsOf(s.app()).size() > before.keySet().stream()
                            .filter(b -> b.app().equals(s.app())).count()));
        } finally {
            audit.close();
        }
    }

    @Test
    void aLeaderStartedWhileAHostSpecIsInvalidKeepsThatHostsInstances() {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        store.put(keys.app("web"), app(2));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 2);
        dispatcher.close();
        dispatcher = null;
        store.putBytes(keys.host("h1"), "{\"labels\": 7}".getBytes(StandardCharsets.UTF_8), 0);
        start(new Fence(keys.election() + "/second", store.put(keys.election() + "/second", Map.of("t", 2))));
        store.put(keys.app("api"), app(2));
        await().atMost(WAIT).until(() -> placement("api") != null && placement("api").pendingReason() != null);
        assertEquals(Set.of("h1", "h2"), hostsOf("web"), "h1's instance stays although its spec is unreadable");
        assertEquals(Set.of("h2"), hostsOf("api"), "nothing new on h1");
        assertTrue(placement("api").pendingReason().contains("1 have an unreadable spec"),
                placement("api").pendingReason());
    }

    @Test
    void drainingAHostEmptiesIt() {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        host("h3", Fixtures.host());
        store.put(keys.app("web"), app(2));
        store.put(keys.app("db"), Fixtures.stateful(app(2)));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 2 && hostsOf("db").size() == 2);
        String drained = hostsOf("db").iterator().next();
        store.put(keys.host(drained), Fixtures.host().withDrain(true));
        await().atMost(WAIT).until(() -> assignments().keySet().stream().noneMatch(s -> s.host().equals(drained))
                && hostsOf("web").size() == 2 && hostsOf("db").size() == 2);
    }

    @Test
    void badIntentsArePendingWithAReasonAndTheOthersArePlaced() {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        store.putBytes(keys.app("broken"), "{\"versions\": ".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes(keys.app("typo"), "{\"scael\": 3}".getBytes(StandardCharsets.UTF_8), 0);
        store.put(keys.app("noversion"), app(1).withActive("9.9"));
        store.put(keys.app("nowhere"), Fixtures.withLabels(app(1), Map.of("zone", "mars"), Map.of()));
        store.put(keys.app("huge"), Fixtures.app(1, 64, 1));
        store.putBytes(keys.appsPrefix() + "Not_A_Name", "{}".getBytes(StandardCharsets.UTF_8), 0);
        store.put(keys.app("good"), app(2));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("good").size() == 2 && placement("huge") != null);
        assertTrue(placement("good").complete());
        assertTrue(placement("broken").pendingReason().startsWith("invalid intent:"), placement("broken").toString());
        assertTrue(placement("typo").pendingReason().contains("scael"), placement("typo").pendingReason());
        assertTrue(placement("noversion").pendingReason().contains("active: '9.9' is not one of versions"),
                placement("noversion").pendingReason());
        assertTrue(placement("nowhere").pendingReason().contains("2 lack labels zone=mars"),
                placement("nowhere").pendingReason());
        assertTrue(placement("huge").pendingReason().contains("lack room for cpu 64"),
                placement("huge").pendingReason());
        for (String bad : new String[] {"broken", "typo", "noversion", "nowhere", "huge"}) {
            assertEquals(Set.of(), hostsOf(bad), bad);
        }
        assertFalse(store.get(keys.placementPrefix() + "Not_A_Name", Placement.class).isPresent());
        assertEquals(0, fenceLost.get());
        assertTrue(dispatcher.leading());
    }

    @Test
    void hostileValuesAnywhereNeverStopTheDispatcher() {
        host("h1", Fixtures.host());
        host("h2", Fixtures.host());
        Map<String, String> hostile = new TreeMap<>(Map.of(
                "nullversion", "{\"versions\":{\"1.0\":null},\"active\":\"1.0\",\"run\":{\"command\":[\"x\"]}}",
                "nulllabel", "{\"constraints\":{\"labels\":{\"zone\":null}}}",
                "array", "[1,2,3]",
                "string", "\"just a string\"",
                "jsonnull", "null",
                "deep", "[".repeat(5000) + "]".repeat(5000),
                "huge", "{\"runtime\":\"" + "x".repeat(300_000) + "\"}",
                "binary", "\u0000\u00ff\u0001garbage",
                "negscale", "{\"scale\":-5}",
                "hugescale", "{\"scale\":2147483647}"));
        hostile.forEach((name, value) -> store.putBytes(keys.app(name), value.getBytes(StandardCharsets.UTF_8), 0));
        // hostile host specs and liveness values, and keys that are not ours
        store.putBytes(keys.host("h3"), "{\"capacity\":{\"cpu\":-1}}".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes(keys.live("h3"), "not json".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes(keys.assignPrefix() + "h1/too/deep", "{}".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes(keys.assignment("h2", "ghost"), "{broken".getBytes(StandardCharsets.UTF_8), 0);
        store.put(keys.app("good"), app(2));
        start(fence());
        await().atMost(WAIT).until(() -> hostsOf("good").size() == 2
                && hostile.keySet().stream().allMatch(n -> placement(n) != null));
        for (String name : hostile.keySet()) {
            Placement p = placement(name);
            assertTrue(p.pendingReason() != null && p.pendingReason().startsWith("invalid intent"), name + ": " + p);
            assertEquals(Set.of(), hostsOf(name), name);
        }
        assertEquals(Set.of("h1", "h2"), hostsOf("good"), "the invalid spec of h3 gets nothing");
        assertTrue(store.get(keys.assignment("h2", "ghost"), Object.class).isEmpty(), "undecodable leftover removed");
        assertTrue(dispatcher.leading());
        // and it still reacts to the next change
        store.put(keys.app("later"), app(1));
        await().atMost(WAIT).until(() -> hostsOf("later").size() == 1);
    }

    @Test
    void aLostFenceStopsTheDispatcherAndNothingItTriesLands() {
        host("h1", Fixtures.host());
        store.put(keys.app("web"), app(1));
        Fence f = fence();
        start(f);
        await().atMost(WAIT).until(() -> hostsOf("web").size() == 1);
        // leadership ends: the election key goes away (as when its lease expires)
        store.delete(f.key());
        long after = store.revision();
        store.put(keys.app("api"), app(1));
        await().atMost(WAIT).until(() -> fenceLost.get() == 1);
        assertFalse(dispatcher.leading());
        assertEquals(1.0, metrics.rejectedWrites());
        assertNull(placement("api"));
        assertEquals(Set.of(), hostsOf("api"));
        assertTrue(store.list(keys.assignPrefix(), Assignment.class).entries().stream()
                .allMatch(e -> e.modRevision() < after));
    }

    @Test
    void assignmentsBeyondOneGrpcMessageAreReadInPagesAtOneRevision() {
        // 5,000 values of 1 KiB: over gRPC's 4 MiB response limit, which a single range read hits
        byte[] value = ("\"" + "x".repeat(1022) + "\"").getBytes(StandardCharsets.UTF_8);
        List<Op> ops = new java.util.ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            ops.add(new Op.Put(keys.assignment("h" + (i % 50), "app" + i), value, 0));
        }
        for (int i = 0; i < ops.size(); i += 128) {
            store.commit(ops.subList(i, Math.min(ops.size(), i + 128)));
        }
        long rev = store.revision();
        assertThrows(RuntimeException.class, () -> store.list(keys.assignPrefix(), Object.class));
        var snap = store.listPaged(keys.assignPrefix(), Object.class, 2000);
        assertEquals(5000, snap.entries().size());
        assertEquals(rev, snap.revision());
        assertEquals(5000, snap.entries().stream().map(e -> e.key()).distinct().count());
    }

    @Test
    void aLargePlanIsCommittedInBoundedTransactions() {
        for (int i = 0; i < 20; i++) {
            host("h" + i, Fixtures.host(1000, 1_000_000));
        }
        for (int i = 0; i < 100; i++) {
            store.put(keys.app("app" + i), app(3));
        }
        long before = store.revision();
        start(fence());
        await().atMost(WAIT).until(() -> store.count(keys.assignPrefix()) == 300 && store.count(keys.placementPrefix())
                == 100);
        // 400 writes plus one term stamp per transaction of at most 128 operations: at least 4 transactions
        long txns = store.revision() - before;
        assertTrue(txns >= 4 && txns <= 10, "transactions: " + txns);
        assertEquals(400.0, metrics.writes());
    }
}
