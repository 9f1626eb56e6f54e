package io.intent.leader;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.dispatcher.DispatchMetrics;
import io.intent.dispatcher.Dispatcher;
import io.intent.dispatcher.LeaderTerm;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Session;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Resources;
import io.intent.testkit.EtcdCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Candidates in one JVM, each with its own etcd client, against a real etcd. */
class LeaderElectionTest {
    private static final Duration TTL = Duration.ofSeconds(2);
    private static final AtomicInteger ROOTS = new AtomicInteger();
    private static EtcdCluster etcd;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.single();
    }

    @AfterAll
    static void stopEtcd() {
        etcd.close();
    }

    private static EtcdStore connect(String root) {
        return EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot(root));
    }

    /** A candidate on a session of its own, as if it were a process of its own. */
    private static LeaderElection start(EtcdStore s, String name, LeaderElection.Listener listener) {
        return LeaderElection.start(Session.open(s, TTL), name, listener);
    }

    /** Records what a candidate was told. */
    static final class Recorder implements LeaderElection.Listener {
        final List<Fence> elected = new CopyOnWriteArrayList<>();
        final List<String> lost = new CopyOnWriteArrayList<>();

        @Override
        public void elected(Fence fence) {
            elected.add(fence);
        }

        @Override
        public void lost(Fence fence, String why) {
            lost.add(why);
        }
    }

    @Test
    void exactlyOneCandidateLeadsAndAnyoneCanAskWhich() {
        String root = "/e" + ROOTS.incrementAndGet();
        List<EtcdStore> stores = new ArrayList<>();
        List<LeaderElection> candidates = new ArrayList<>();
        try (EtcdStore observer = connect(root)) {
            assertTrue(LeaderElection.whoLeads(observer).isEmpty(), "nobody leads before anyone campaigns");
            for (int i = 0; i < 3; i++) {
                EtcdStore s = connect(root);
                stores.add(s);
                candidates.add(start(s, "c" + i, new Recorder()));
            }
            await().atMost(Duration.ofSeconds(15)).until(() ->
                    candidates.stream().filter(c -> c.state() == LeaderElection.State.LEADING).count() == 1);
            LeaderElection leader = candidates.stream().filter(c -> c.state() == LeaderElection.State.LEADING)
                    .findFirst().orElseThrow();
            var who = LeaderElection.whoLeads(observer).orElseThrow();
            assertEquals(leader.name(), who.name());
            assertEquals(leader.fence().orElseThrow().key(), who.key());
            assertEquals(leader.fence().orElseThrow().createRevision(), who.createRevision());
            assertEquals(ProcessHandle.current().pid(), who.pid());
        } finally {
            candidates.forEach(LeaderElection::close);
            stores.forEach(EtcdStore::close);
        }
    }

    @Test
    void resigningHandsOverToTheStandbyAtOnceWithAHigherFence() {
        String root = "/e" + ROOTS.incrementAndGet();
        try (EtcdStore s1 = connect(root); EtcdStore s2 = connect(root)) {
            Recorder r1 = new Recorder();
            Recorder r2 = new Recorder();
            LeaderElection first = start(s1, "first", r1);
            await().atMost(Duration.ofSeconds(10)).until(() -> first.state() == LeaderElection.State.LEADING);
            LeaderElection second = start(s2, "second", r2);
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                    .until(() -> second.state() == LeaderElection.State.CAMPAIGNING);
            long t0 = System.nanoTime();
            first.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> second.state() == LeaderElection.State.LEADING);
            double handover = (System.nanoTime() - t0) / 1e9;
            System.out.printf("graceful handover in one JVM: %.3f s%n", handover);
            assertTrue(handover < 1.5, "handover took " + handover + " s");
            assertEquals(List.of("resigning"), r1.lost);
            assertEquals(LeaderElection.State.CLOSED, first.state());
            assertTrue(r2.elected.get(0).createRevision() > r1.elected.get(0).createRevision());
            assertTrue(s1.get(r1.elected.get(0).key(), Object.class).isEmpty(), "the old election key is gone");
            second.close();
        }
    }

    @Test
    void whenTheSessionLosesItsLeaseTheTermEndsAndTheCandidateLeadsAgainOnTheSessionsNewLease() {
        String root = "/e" + ROOTS.incrementAndGet();
        try (EtcdStore s = connect(root); EtcdStore admin = connect(root); Session session = Session.open(s, TTL)) {
            Recorder r = new Recorder();
            try (LeaderElection e = LeaderElection.start(session, "c", r)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> e.state() == LeaderElection.State.LEADING);
                long lease = session.lease();
                admin.revokeLease(lease); // the lease is gone at the server, the election key with it

                await().atMost(Duration.ofSeconds(10)).until(() -> r.elected.size() == 2);
                assertEquals(1, r.lost.size(), "the first term was told lost once: " + r.lost);
                assertTrue(r.lost.get(0).startsWith("lease lost"), r.lost.get(0));
                assertTrue(session.lease() != lease, "a new lease");
                Fence second = r.elected.get(1);
                assertTrue(second.key().endsWith(Long.toHexString(session.lease())), "the key hangs on the new lease");
                assertTrue(second.createRevision() > r.elected.get(0).createRevision());
                assertEquals(second, e.fence().orElseThrow());
            }
        }
    }

    @Test
    void aLeaderWhoseKeyIsDeletedStepsDownOnItsFirstRefusedWriteAndTheStandbyDispatches() {
        String root = "/e" + ROOTS.incrementAndGet();
        Dispatcher.Settings settings = Dispatcher.Settings.defaults().withGrace(Duration.ofSeconds(30));
        try (EtcdStore s1 = connect(root); EtcdStore s2 = connect(root); EtcdStore admin = connect(root)) {
            var keys = admin.keys();
            long lease = admin.grantLease(Duration.ofSeconds(60));
            for (String h : List.of("h1", "h2")) {
                admin.put(keys.host(h), new HostSpec(Map.of(), new Resources(4, 4096), "10.0.0.1", false));
                admin.put(keys.live(h), new Liveness(h, "10.0.0.1", "test", 1, Instant.now()), lease);
            }
            SimpleMeterRegistry m1 = new SimpleMeterRegistry();
            try (LeaderProcess p1 = LeaderProcess.start(s1, "p1", TTL, settings, m1)) {
                await().atMost(Duration.ofSeconds(10)).until(p1::leading);
                try (LeaderProcess p2 = LeaderProcess.start(s2, "p2", TTL, settings, new SimpleMeterRegistry())) {
                    Fence old = p1.election().fence().orElseThrow();
                    // an operator (or a bug) removes the leader's key; p1's lease is still alive
                    admin.delete(old.key());
                    admin.put(keys.app("web"), io.intent.leader.Intents.app(2));
                    await().atMost(Duration.ofSeconds(15)).until(() -> p2.leading()
                            && admin.list(keys.assignPrefix(), Assignment.class).entries().size() == 2);
                    await().atMost(Duration.ofSeconds(10)).until(() ->
                            m1.get("intent_dispatcher_rejected_writes").counter().count() >= 1 && !p1.leading());
                    LeaderTerm term = admin.get(LeaderTerm.key(keys), LeaderTerm.class).orElseThrow().value();
                    assertEquals("p2", term.leader());
                    assertTrue(!p1.leading());
                }
            }
        }
    }

    @Test
    void aLostThatArrivesAfterTheNextElectionDoesNotStopTheNextTerm() throws Exception {
        String root = "/e" + ROOTS.incrementAndGet();
        Dispatcher.Settings settings = Dispatcher.Settings.defaults().withGrace(Duration.ofSeconds(30));
        try (EtcdStore s = connect(root); EtcdStore admin = connect(root)) {
            var keys = admin.keys();
            admin.put(keys.host("h1"), new HostSpec(Map.of(), new Resources(4, 4096), "10.0.0.1", false));
            admin.put(keys.live("h1"), new Liveness("h1", "10.0.0.1", "test", 1, Instant.now()),
                    admin.grantLease(Duration.ofSeconds(60)));
            try (Dispatcher d = Dispatcher.follow(s, "c", settings, new DispatchMetrics(new SimpleMeterRegistry()),
                    f -> { })) {
                CountDownLatch secondElected = new CountDownLatch(1);
                CountDownLatch lostDone = new CountDownLatch(1);
                AtomicInteger elections = new AtomicInteger();
                AtomicInteger leading = new AtomicInteger();
                LeaderElection.Listener dispatching = LeaderProcess.dispatching(d, leading, new AtomicInteger());
                // the first term's lost() is held back until the next term has been elected
                LeaderElection.Listener late = new LeaderElection.Listener() {
                    @Override
                    public void elected(Fence fence) {
                        dispatching.elected(fence);
                        if (elections.incrementAndGet() == 2) {
                            secondElected.countDown();
                        }
                    }

                    @Override
                    public void lost(Fence fence, String why) {
                        try {
                            secondElected.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        dispatching.lost(fence, why);
                        lostDone.countDown();
                    }
                };
                try (LeaderElection e = start(s, "c", late)) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> d.leading());
                    Fence first = e.fence().orElseThrow();
                    Thread stepper = new Thread(() -> e.stepDown(first, "test ends the first term"));
                    stepper.start();
                    assertTrue(lostDone.await(15, TimeUnit.SECONDS), "the late lost() ran");
                    assertEquals(2, elections.get(), "a second term was elected before the late lost()");
                    Fence second = e.fence().orElseThrow();
                    assertTrue(second.createRevision() > first.createRevision());

                    admin.put(keys.app("web"), Intents.app(1));
                    await().atMost(Duration.ofSeconds(10)).until(() ->
                            admin.get(keys.assignment("h1", "web"), Assignment.class).isPresent());
                    assertEquals(second, d.fence(), "the dispatcher writes under the second term's fence");
                    assertEquals(1, leading.get(), "the leader gauge still says leading");
                    // a refused write reported late for the first term does not end the second either
                    e.stepDown(first, "late report of a refused write");
                    assertEquals(LeaderElection.State.LEADING, e.state());
                    assertEquals(second, e.fence().orElseThrow());
                    LeaderTerm term = admin.get(LeaderTerm.key(keys), LeaderTerm.class).orElseThrow().value();
                    assertEquals(second.createRevision(), term.fenceRevision());
                }
            }
        }
    }
}
