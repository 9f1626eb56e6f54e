package io.intent.leader;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.dispatcher.Dispatcher;
import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import io.intent.agent.converge.HostPresence;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.LeaseKeeper;
import io.intent.store.etcd.PermissionDeniedException;
import io.intent.store.etcd.Session;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Endpoint;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Resources;
import io.intent.store.model.RolloutRequest;
import io.intent.store.model.SlotGrant;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Rbac;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Host h1 turned hostile, under the etcd roles exactly as etc/etcd/setup-rbac.sh ships them: every write it might
 * try outside its own keys and every read outside its slice is refused by etcd itself; its registration counts
 * only once; and the leader's rollout slots hold against it. Hosts h1 and h2 run the real {@link HostPresence}
 * and the leader runs as user {@code intent-leader}, so the same test shows the system converging with these roles.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostConfinementTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    EtcdCluster etcd;
    EtcdStore root;
    EtcdStore h1;
    EtcdStore h2;
    EtcdStore leaderStore;
    LeaderProcess leader;
    HostPresence p1;
    HostPresence p2;
    KeyLayout keys;
    final List<LeaseKeeper> keepers = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        Path work = Files.createTempDirectory("intent-confinement-");
        etcd = EtcdCluster.single();
        Rbac rbac = Rbac.setup(etcd.endpoints(), work, "h1", "h2");
        EtcdConfig base = EtcdConfig.of(etcd.endpoints());
        root = EtcdStore.connect(base.withCredentials("root", Rbac.ROOT_PASSWORD));
        h1 = EtcdStore.connect(base.withCredentials("h1", rbac.password("h1")));
        h2 = EtcdStore.connect(base.withCredentials("h2", rbac.password("h2")));
        leaderStore = EtcdStore.connect(base.withCredentials("intent-leader", rbac.password("intent-leader")));
        keys = root.keys();
        // what an operator wrote before: an app, a token, an idempotency record (keys a host must not touch)
        root.put(keys.app("web"), Intents.app(2));
        root.put(keys.root() + "/auth/tokens/ops", Map.of("role", "admin", "sha256", "0".repeat(64)));
        root.put(keys.root() + "/idempotency/" + "1".repeat(64), Map.of("claim", "x"));
        leader = LeaderProcess.start(leaderStore, "leader-a", Duration.ofSeconds(5),
                Dispatcher.Settings.defaults().withCoalesce(Duration.ofMillis(20)), new SimpleMeterRegistry());
        p1 = HostPresence.start(Session.open(h1, Duration.ofSeconds(10)), "h1", spec("a", 16), "test");
        p2 = HostPresence.start(Session.open(h2, Duration.ofSeconds(10)), "h2", spec("a", 16), "test");
        // the leader copies both registrations and assigns web to both hosts: the system converges with these roles
        await().atMost(WAIT).until(() -> root.get(keys.assignment("h1", "web"), Object.class).isPresent()
                && root.get(keys.assignment("h2", "web"), Object.class).isPresent());
    }

    static HostSpec spec(String zone, double cpu) {
        return new HostSpec(Map.of("zone", zone), new Resources(cpu, 65536), "127.0.0.2", false);
    }

    @AfterAll
    void stop() {
        keepers.forEach(LeaseKeeper::close);
        for (AutoCloseable c : new AutoCloseable[] {p1, p2, leader, h1, h2, leaderStore, root, etcd}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }

    /** Every key a hostile h1 might write to harm others, with a plausible value. */
    List<Map.Entry<String, Object>> hostileWrites() {
        Instant now = Instant.now();
        Endpoint evil = new Endpoint("web", "h2", "203.0.113.66", "1.0", Map.of("http", 80), now);
        HostSpec greedy = new HostSpec(Map.of("zone", "a", "gpu", "yes"), new Resources(1024, 1 << 30),
                "127.0.0.2", false);
        return List.of(
                Map.entry(keys.status("h2", "web", "setlive"), new AgentStatus("setlive", Phase.READY, "1.0", 1,
                        "", 0, now, null, Map.of())),
                Map.entry(keys.live("h2"), new Liveness("h2", "127.0.0.3", "evil", 1, now)),
                Map.entry(keys.endpoint("web", "h2"), evil),
                Map.entry(keys.endpointsPrefix() + "web/h2", evil),
                Map.entry(keys.rolloutRequest("h2", "web"), new RolloutRequest("h2", "web", "1.0", now)),
                Map.entry(keys.slot("h2", "web"), new SlotGrant("h2", "web", 1, 1, now)),
                Map.entry(keys.slot("h1", "web"), new SlotGrant("h1", "web", 1, 1, now)),
                Map.entry(keys.rolloutPrefix() + "web/slot-0", new RolloutRequest("h1", "web", "1.0", now)),
                Map.entry(keys.registration("h2"), greedy),
                Map.entry(keys.host("h1"), greedy),
                Map.entry(keys.host("h2"), greedy),
                Map.entry(keys.host("h3"), greedy),
                Map.entry(keys.app("web"), Intents.app(9)),
                Map.entry(keys.app("evil"), Intents.app(1)),
                Map.entry(keys.root() + "/auth/tokens/evil", Map.of("role", "admin", "sha256", "0".repeat(64))),
                Map.entry(keys.root() + "/idempotency/" + "2".repeat(64), Map.of("claim", "x")),
                Map.entry(keys.assignment("h1", "evil"), Map.of("app", "evil")),
                Map.entry(keys.assignment("h2", "web"), Map.of("app", "web")),
                Map.entry(keys.placement("web"), Map.of("hosts", List.of("h1"))),
                Map.entry(keys.root() + "/leader/term", Map.of("leader", "h1")),
                Map.entry(keys.election() + "/h1", Map.of("leader", "h1")),
                Map.entry(keys.root() + "/something-new", Map.of()));
    }

    @Test
    void hostOneCanNeitherPutNorDeleteAnyKeyButItsOwn() {
        List<String> landed = new ArrayList<>();
        for (var w : hostileWrites()) {
            try {
                h1.put(w.getKey(), w.getValue());
                landed.add("put " + w.getKey());
            } catch (PermissionDeniedException expected) {
                // refused by etcd, as it must be
            }
            try {
                h1.delete(w.getKey());
                landed.add("delete " + w.getKey());
            } catch (PermissionDeniedException expected) {
                // refused
            }
        }
        for (String prefix : List.of(keys.endpointsPrefix(), keys.rolloutPrefix(), keys.slotsPrefix(),
                keys.hostsPrefix(), keys.statusPrefix(), keys.livePrefix(), keys.registrationPrefix(),
                keys.assignPrefix(), keys.root() + "/")) {
            try {
                h1.deletePrefix(prefix);
                landed.add("delete prefix " + prefix);
            } catch (PermissionDeniedException expected) {
                // refused
            }
        }
        assertEquals(List.of(), landed, "writes etcd let hostile h1 make");
        assertTrue(root.get(keys.app("web"), AppIntent.class).orElseThrow().value().scale() == 2);
        assertTrue(root.get(keys.assignment("h2", "web"), Object.class).isPresent());
    }

    @Test
    void hostOneCanReadNothingOutsideItsSlice() {
        List<String> read = new ArrayList<>();
        List<String> outside = List.of(keys.app("web"), keys.host("h1"), keys.host("h2"), keys.assignment("h2", "web"),
                keys.placement("web"), keys.status("h2", "web", "setlive"), keys.live("h2"),
                keys.endpoint("web", "h2"), keys.rolloutRequest("h2", "web"), keys.slot("h2", "web"),
                keys.registration("h2"), keys.root() + "/auth/tokens/ops", keys.root() + "/idempotency/" + "1".repeat(64),
                keys.root() + "/leader/term");
        for (String key : outside) {
            try {
                h1.get(key, Object.class);
                read.add("get " + key);
            } catch (PermissionDeniedException expected) {
                // refused
            }
        }
        for (String prefix : List.of(keys.appsPrefix(), keys.hostsPrefix(), keys.assignPrefix(),
                keys.assignSlice("h2"), keys.placementPrefix(), keys.statusPrefix(), keys.statusSlice("h2"),
                keys.livePrefix(), keys.endpointsPrefix(), keys.endpointSlice("h2"), keys.rolloutPrefix(),
                keys.rolloutSlice("h2"), keys.slotsPrefix(), keys.slotSlice("h2"), keys.registrationPrefix(),
                keys.root() + "/auth/", keys.root() + "/idempotency/", keys.leaderPrefix(), keys.root() + "/")) {
            try {
                h1.list(prefix, Object.class);
                read.add("list " + prefix);
            } catch (PermissionDeniedException expected) {
                // refused
            }
        }
        assertEquals(List.of(), read, "reads etcd let hostile h1 make");
    }

    @Test
    void hostOneCanStillWriteAndReadEverythingOfItsOwn() {
        Instant now = Instant.now();
        long lease = h1.grantLease(Duration.ofSeconds(30));
        h1.put(keys.status("h1", "web", "probe"), new AgentStatus("probe", Phase.READY, "1.0", 1, "", 0, now, null,
                Map.of()));
        h1.put(keys.endpoint("probe", "h1"), new Endpoint("probe", "h1", "127.0.0.2", "1", Map.of(), now), lease);
        h1.put(keys.rolloutRequest("h1", "probe"), new RolloutRequest("h1", "probe", "1", now), lease);
        h1.list(keys.assignSlice("h1"), Object.class);
        h1.list(keys.slotSlice("h1"), Object.class);
        h1.list(keys.endpointSlice("h1"), Object.class);
        h1.list(keys.statusSlice("h1"), Object.class);
        // revoking its own lease deletes only its own keys, which it may write
        h1.revokeLease(lease);
        assertTrue(root.get(keys.endpoint("probe", "h1"), Object.class).isEmpty());
        h1.delete(keys.status("h1", "web", "probe"));
    }

    @Test
    void aHostRegistersOnceAndAfterThatItsLabelsCapacityAndDrainAreTheOperatorsWord() {
        HostSpec registered = root.get(keys.host("h1"), HostSpec.class).orElseThrow().value();
        assertEquals(Map.of("zone", "a"), registered.labels(), "the leader copied h1's own registration");
        // h1 re-registers with labels and capacity that would attract other apps, and undrains itself
        h1.put(keys.registration("h1"), new HostSpec(Map.of("zone", "a", "gpu", "yes"), new Resources(4096, 1 << 30),
                "127.0.0.2", false));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                root.get(keys.host("h1"), HostSpec.class).orElseThrow().value().equals(registered));
        assertThrows(PermissionDeniedException.class, () -> h1.put(keys.host("h1"),
                new HostSpec(Map.of("gpu", "yes"), null, "127.0.0.2", false)));
    }

    @Test
    void aHostileHostCanTakeOnlyItsOwnSlotAndASlotWithoutALiveLeaseNeverCounts() {
        // web: 2 instances, maxUnavailable 1 by default; h2 asks first and gets the slot
        long l2 = h2.grantLease(Duration.ofSeconds(30));
        keepers.add(h2.keepAlive(l2, Duration.ofSeconds(30), () -> { }));
        h2.put(keys.rolloutRequest("h2", "web"), new RolloutRequest("h2", "web", "1.0", Instant.now()), l2);
        await().atMost(WAIT).until(() -> h2.get(keys.slot("h2", "web"), SlotGrant.class)
                .filter(g -> g.value().lease() == l2).isPresent());

        long l1 = h1.grantLease(Duration.ofSeconds(30));
        keepers.add(h1.keepAlive(l1, Duration.ofSeconds(30), () -> { }));
        h1.put(keys.rolloutRequest("h1", "web"), new RolloutRequest("h1", "web", "1.0", Instant.now()), l1);
        // h1 asks for slots of an app it does not run, to block its rollouts: never granted, never counted
        h1.put(keys.rolloutRequest("h1", "other"), new RolloutRequest("h1", "other", "1.0", Instant.now()), l1);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                h1.get(keys.slot("h1", "web"), SlotGrant.class).isEmpty()
                        && h1.get(keys.slot("h1", "other"), SlotGrant.class).isEmpty());
        // h1 cannot free h2's slot
        assertThrows(PermissionDeniedException.class, () -> h1.delete(keys.rolloutRequest("h2", "web")));
        assertThrows(PermissionDeniedException.class, () -> h1.delete(keys.slot("h2", "web")));
        assertThrows(PermissionDeniedException.class, () -> h1.put(keys.slot("h1", "web"),
                new SlotGrant("h1", "web", l1, 1, Instant.now())));

        // h2's agent dies: its lease goes, its request with it, and the slot it held no longer counts
        h2.revokeLease(l2);
        await().atMost(WAIT).until(() -> h1.get(keys.slot("h1", "web"), SlotGrant.class)
                .filter(g -> g.value().lease() == l1).isPresent());
        assertTrue(root.get(keys.slot("h2", "web"), SlotGrant.class).isEmpty(), "the stale grant is cleaned up");
        assertFalse(root.get(keys.slot("h1", "other"), SlotGrant.class).isPresent());
        h1.revokeLease(l1);
        await().atMost(WAIT).until(() -> root.get(keys.slot("h1", "web"), SlotGrant.class).isEmpty());
        assertTrue(Json.writeString(root.list(keys.slotsPrefix(), SlotGrant.class).entries()).equals("[]"));
    }
}
