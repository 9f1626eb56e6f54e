package io.intent.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.Assignment;
import io.intent.testkit.Fleet;
import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hosts cut off from etcd (their node JVMs frozen with SIGSTOP, as in a partition: the apps keep running, the
 * agents and their liveness do not) on real etcd, leader, node JVMs and runit: no running app is lost.
 */
class PartitionTest {
    private static final Fleet.Timing FAST = new Fleet.Timing(2, 3, 2);
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    private Path work;
    private Fleet fleet;
    private EtcdStore store;
    private SliceWatch<Assignment> audit;
    private final List<String> deleted = new CopyOnWriteArrayList<>();
    private final int port = Ports.free();

    @BeforeEach
    void start() throws Exception {
        work = Files.createTempDirectory("intent-partition-");
        fleet = Fleet.start(work, 3, FAST, List.of());
        store = EtcdStore.connect(EtcdConfig.of(List.of(fleet.endpoints().split(","))));
        audit = store.watchSlice(store.keys().assignPrefix(), Assignment.class, (changes, rev, relisted) ->
                changes.forEach(c -> {
                    if (c.kind() == SliceWatch.Kind.DELETE) {
                        deleted.add(c.key());
                    }
                }));
    }

    @AfterEach
    void stop() {
        if (audit != null) {
            audit.close();
        }
        if (store != null) {
            store.close();
        }
        if (fleet != null) {
            for (int i = 0; i < fleet.size(); i++) {
                fleet.node(i).resume();
            }
            fleet.close();
            for (int i = 0; i < fleet.size(); i++) {
                try {
                    io.intent.setlive.Runsvdir.shutdown(fleet.root(i).resolve("services"),
                            fleet.root(i).resolve("setlive"), Duration.ofSeconds(5));
                } catch (Exception e) {
                    System.err.println("could not stop the apps of " + fleet.root(i) + ": " + e);
                }
            }
        }
    }

    private Map<Integer, Long> servingPids(int expected) {
        await().atMost(CONVERGE).until(() -> {
            int n = 0;
            for (int i = 0; i < fleet.size(); i++) {
                n += fleet.answers(i, port) ? 1 : 0;
            }
            return n == expected;
        });
        Map<Integer, Long> pids = new HashMap<>();
        for (int i = 0; i < fleet.size(); i++) {
            int host = i;
            fleet.pid(i, "web").filter(p -> fleet.answers(host, port)).ifPresent(p -> pids.put(host, p));
        }
        return pids;
    }

    @Test
    void aPartitionOfEveryHostFromEtcdDeletesNoAssignmentAndRestartsNoApp() throws Exception {
        fleet.deploy("web", 3, port);
        Map<Integer, Long> before = servingPids(3);
        assertEquals(3, before.size());
        await().atMost(CONVERGE).until(() -> fleet.assigned("web").size() == 3);

        // every host's agents cut off for the liveness TTL + the host grace + 5 s
        for (int i = 0; i < 3; i++) {
            fleet.node(i).pause();
        }
        Duration partition = Duration.ofSeconds(FAST.livenessTtl() + FAST.hostGrace() + 5);
        await().during(partition).atMost(partition.plusSeconds(10)).until(deleted::isEmpty);
        String placement = fleet.etcdctl("get", "--print-value-only", "/intent/placement/web");
        assertTrue(placement.contains("disruption mode: 3 of 3 hosts unreachable"), placement);
        for (int i = 0; i < 3; i++) {
            fleet.node(i).resume();
        }

        await().atMost(CONVERGE).until(() -> !fleet.etcdctl("get", "--print-value-only", "/intent/placement/web")
                .contains("unreachable"));
        assertEquals(List.of(), deleted, "no assignment was deleted");
        assertEquals(Set.of("h1", "h2", "h3"), fleet.assigned("web"));
        await().during(Duration.ofSeconds(2)).atMost(CONVERGE).until(() -> servingPids(3).equals(before));
    }

    @Test
    void aHostCutOffIsReplacedBeforeItsInstanceIsRemovedAndItStopsWhenItIsBack() throws Exception {
        fleet.deploy("web", 2, port);
        Map<Integer, Long> before = servingPids(2);
        int cut = before.keySet().iterator().next();
        int spare = Set.of(0, 1, 2).stream().filter(i -> !before.containsKey(i)).findFirst().orElseThrow();

        fleet.node(cut).pause();
        // its replacement comes up on the spare host while its own instance keeps serving
        await().atMost(CONVERGE).until(() -> fleet.answers(spare, port));
        assertTrue(fleet.answers(cut, port), "the cut-off host's app was never stopped");
        await().atMost(CONVERGE).until(() -> !fleet.assigned("web").contains(fleet.host(cut)));
        assertEquals(List.of(store.keys().assignment(fleet.host(cut), "web")), deleted,
                "only the replaced instance's assignment was deleted, after its replacement ran healthy");

        fleet.node(cut).resume();
        await().atMost(CONVERGE).until(() -> !fleet.answers(cut, port));
        assertFalse(fleet.pid(cut, "web").isPresent());
        int other = before.keySet().stream().filter(i -> i != cut).findFirst().orElseThrow();
        assertEquals(before.get(other), fleet.pid(other, "web").orElseThrow(), "the other instance never moved");
    }
}
