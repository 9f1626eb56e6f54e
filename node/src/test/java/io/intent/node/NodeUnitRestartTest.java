package io.intent.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.setlive.Runsvdir;
import io.intent.store.etcd.Entry;
import io.intent.store.model.Endpoint;
import io.intent.store.model.Phase;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The node's systemd unit, stood in for by a cgroup of its own, stopped and crashed like systemd does it
 * (every process in the cgroup): with the supervisor runsvdir outside it, as {@code intent-runsvdir.service}
 * runs it, every app keeps its pid and answers throughout; with setlive's own runsvdir (dev only) they die.
 */
class NodeUnitRestartTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void stoppingOrCrashingTheNodeUnitNeverTouchesTheApps() throws Exception {
        try (NodeFixture fx = new NodeFixture(); CgroupUnit unit = CgroupUnit.create("intent-node-test")) {
            long supervisor = fx.startSupervisor();
            JvmProcess node = fx.startNode(unit.prefix(), "external");
            int port = Ports.free();
            fx.assign("web", port);
            fx.awaitAnswers(port, node);
            long app = fx.appPid("web");
            assertTrue(unit.pids().contains(node.pid()), "the node runs in the unit's cgroup");
            assertEquals(List.of(node.pid()), unit.pids(), "nothing else in the unit: setlive adopted the supervisor");

            try (HttpPoller poller = new HttpPoller(port, "1.0")) {
                // systemctl restart intent-node: SIGTERM to the unit's cgroup (SIGKILL after 30 s), then start
                long lease = awaitEndpointLease(fx, 0);
                unit.stop(Duration.ofSeconds(30));
                assertTrue(node.waitFor(5), "the node has exited");
                node = fx.startNode(unit.prefix(), "external");
                lease = awaitEndpointLease(fx, lease);

                // a crash and Restart=always: SIGKILL to everything in the cgroup at once, then start
                unit.kill();
                node = fx.startNode(unit.prefix(), "external");
                awaitEndpointLease(fx, lease);
                assertEquals(Phase.READY, fx.status("web").orElseThrow().phase());

                poller.close();
                assertEquals(List.of(), poller.failures(), "requests failed during the node's restarts");
                assertTrue(poller.requests() > 100, "only " + poller.requests() + " requests made");
                System.out.println("requests answered during two node restarts: " + poller.requests());
            }
            assertEquals(app, fx.appPid("web"), "the same app process after both restarts");
            assertTrue(alive(app));
            assertEquals(Optional.of(supervisor), Runsvdir.find(fx.services(), fx.root.resolve("setlive")),
                    "the same supervisor runsvdir");
        }
    }

    @Test
    void aRunsvdirSetliveStartsItselfDiesWithTheUnitAsDocumented() throws Exception {
        try (NodeFixture fx = new NodeFixture(); CgroupUnit unit = CgroupUnit.create("intent-node-test")) {
            JvmProcess node = fx.startNode(unit.prefix(), "auto");
            int port = Ports.free();
            fx.assign("web", port);
            fx.awaitAnswers(port, node);
            long runsvdir = Runsvdir.find(fx.services(), fx.root.resolve("setlive")).orElseThrow();
            assertTrue(unit.pids().contains(runsvdir), "setsid keeps setlive's own runsvdir in the unit's cgroup");
            assertNotEquals(node.pid(), runsvdir);

            // it outlives the agent process itself (kill -9 of the JVM alone) ...
            long app = fx.appPid("web");
            node.kill9();
            assertEquals("1.0", NodeFixture.body(port), "the app serves while no agent runs");
            assertEquals(app, fx.appPid("web"));
            // ... but not a stop of the unit: that is why real hosts run intent-runsvdir.service
            unit.stop(Duration.ofSeconds(30));
            // dead, and reaped by init (until then a zombie still counts as alive)
            await().atMost(Duration.ofSeconds(10)).until(() -> !alive(runsvdir) && !alive(app));
            assertEquals(null, NodeFixture.body(port), "the app is gone with the unit");
        }
    }

    @Test
    void externalModeNeverStartsARunsvdirAndAdoptsTheSupervisorOnceItRuns() throws Exception {
        try (NodeFixture fx = new NodeFixture()) {
            JvmProcess node = fx.startNode(List.of(), "external");
            int port = Ports.free();
            fx.assign("web", port);
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
                    .failFast("the node exited:\n" + node.output(), () -> !node.alive())
                    .until(() -> fx.status("web").filter(s -> s.phase() == Phase.FAILED
                            && s.message().contains("intent-runsvdir")).isPresent());
            assertEquals(Optional.empty(), Runsvdir.find(fx.services(), fx.root.resolve("setlive")),
                    "no runsvdir started");

            long supervisor = fx.startSupervisor();
            fx.awaitAnswers(port, node);
            assertEquals(Optional.of(supervisor), Runsvdir.find(fx.services(), fx.root.resolve("setlive")));
        }
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Waits until the app's endpoint is published on a lease other than {@code previous}; returns that lease. */
    private static long awaitEndpointLease(NodeFixture fx, long previous) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> endpoint(fx)
                .filter(e -> e.lease() != previous).isPresent());
        return endpoint(fx).orElseThrow().lease();
    }

    private static Optional<Entry<Endpoint>> endpoint(NodeFixture fx) {
        return fx.store.get(fx.store.keys().endpoint("web", NodeFixture.HOST), Endpoint.class);
    }
}
