package io.intent.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.converge.AgentLock;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.testkit.Apps;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code intent-node --once} on real etcd and runit: it converges a host from empty and exits 0, exits 1 naming
 * the app it could not converge, leaves no liveness key, and refuses (exit 3) while a daemon runs on the host.
 */
class NodeOnceTest {

    @Test
    void convergesAHostFromEmptyWritesStatusesAndExitsZero() throws Exception {
        try (NodeFixture fx = new NodeFixture()) {
            fx.startSupervisor();
            int port = Ports.free();
            fx.assign("web", port);

            JvmProcess once = fx.runOnce(60);

            assertEquals(0, once.exitCode(), once.output());
            assertTrue(once.output().contains("node --once on host h1: converged"),
                    once.output());
            assertEquals("1.0", NodeFixture.body(port), "the app answers after the run has exited");
            for (String agent : List.of("preparer", "iptables", "setlive")) {
                assertEquals(Phase.READY, status(fx, "web", agent).phase(), agent + " status");
            }
            assertTrue(fx.store.get(fx.store.keys().live(NodeFixture.HOST), Object.class).isEmpty(),
                    "a one-shot run registers no liveness");
            // run again: nothing to do, still converged, the same app process
            long pid = fx.appPid("web");
            assertEquals(0, fx.runOnce(60).exitCode());
            assertEquals(pid, fx.appPid("web"));
        }
    }

    @Test
    void anAppItCannotConvergeMakesItExitOneWithASummaryNamingIt() throws Exception {
        try (NodeFixture fx = new NodeFixture()) {
            fx.startSupervisor();
            int port = Ports.free();
            fx.assign("web", port);
            // bytes that do not match the digest the intent names: the preparer refuses them every time
            AppIntent bad = Apps.app().version("1.0", fx.tarball.toUri().toString(), "0".repeat(64))
                    .port("http", Ports.free()).build();
            fx.store.put(fx.store.keys().assignment(NodeFixture.HOST, "broken"),
                    new Assignment("broken", NodeFixture.HOST, 1, bad));

            JvmProcess once = fx.runOnce(10);

            assertEquals(1, once.exitCode(), once.output());
            String summary = once.output().substring(once.output().indexOf("NOT converged"));
            assertTrue(summary.contains("preparer broken: FAILED"), summary);
            assertTrue(!summary.contains(" web:"), "the good app converged: " + summary);
            assertEquals("1.0", NodeFixture.body(port), "the good app answers");
            assertEquals(Phase.FAILED, status(fx, "broken", "preparer").phase());
        }
    }

    @Test
    void besideARunningDaemonItRefusesWithExitThreeAndTouchesNothing() throws Exception {
        try (NodeFixture fx = new NodeFixture()) {
            int port = Ports.free();
            JvmProcess daemon = fx.startServing("web", port);
            // the daemon's own steady status ("live and healthy", after "started 1.0; live and healthy"), so that
            // what is compared below can only change through the refused run
            await().atMost(Duration.ofSeconds(60)).until(() -> fx.status("web").filter(st -> st.phase() == Phase.READY
                    && "live and healthy".equals(st.message())).isPresent());
            long pid = fx.appPid("web");
            AgentStatus before = status(fx, "web", "setlive");

            JvmProcess once = fx.runOnce(30);

            assertEquals(AgentLock.HELD_EXIT_CODE, once.exitCode(), once.output());
            assertTrue(once.output().contains("refused") && once.output().contains("pid " + daemon.pid()),
                    once.output());
            assertTrue(daemon.alive());
            assertEquals(pid, fx.appPid("web"));
            assertEquals(before, status(fx, "web", "setlive"), "the refused run wrote no status");
            // the daemon goes on converging: a change is picked up as before
            fx.store.delete(fx.store.keys().assignment(NodeFixture.HOST, "web"));
            await().atMost(Duration.ofSeconds(30)).until(() -> NodeFixture.body(port) == null);
        }
    }

    private static AgentStatus status(NodeFixture fx, String app, String agent) {
        return fx.store.get(fx.store.keys().status(NodeFixture.HOST, app, agent), AgentStatus.class).orElseThrow()
                .value();
    }
}
