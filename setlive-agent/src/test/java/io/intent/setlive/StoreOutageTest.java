package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** etcd going away stops nothing: not for a running agent, not for an agent that starts while etcd is down. */
class StoreOutageTest {
    static final String HOST = "h5";
    static final String ADDR = "127.0.0.6";
    static SetliveFixture fx;
    static Path root;
    static InstallLayout layout;
    static AgentRuntime agent;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new SetliveFixture();
        root = fx.work.resolve("root-" + HOST);
        layout = new InstallLayout(root);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (agent != null) {
            agent.close();
        }
        Runsvdir.shutdown(layout.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(3));
        if (fx != null) {
            fx.close();
        }
    }

    private static AgentRuntime startAgent() {
        return SetliveMain.parse("--etcd", fx.etcd.endpoint(0), "--host", HOST, "--address", ADDR,
                "--root", root.toString(), "--resync", "1", "--http-port", "-1", "--etcd-timeout", "1").start();
    }

    @Test
    void anUnreachableStoreNeverStopsARunningApp() throws Exception {
        int port = Ports.free();
        DemoApp.install(root, "sturdy", "1.0", fx.tarball, null);
        agent = startAgent();
        fx.assign(HOST, "sturdy", fx.intent("1.0", port, Map.of(), "1.0"));
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        fx.awaitStatus(HOST, "sturdy", Phase.READY, null);
        long pid = Sv.status(layout.service("sturdy")).pid();

        fx.etcd.kill(0);
        // several resyncs (1 s) and etcd timeouts (1 s) come and go: the app keeps serving, same process
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> "1.0".equals(SetliveFixture.body(ADDR, port))
                        && Sv.status(layout.service("sturdy")).pid() == pid);

        // an agent starting while etcd is down sees no assignments; it must not take that for "remove all"
        agent.close();
        agent = startAgent();
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> "1.0".equals(SetliveFixture.body(ADDR, port))
                        && Sv.status(layout.service("sturdy")).pid() == pid
                        && Files.isSymbolicLink(layout.current("sturdy")));

        fx.etcd.restart(0);
        fx.awaitStatus(HOST, "sturdy", Phase.READY, null);
        assertEquals(pid, Sv.status(layout.service("sturdy")).pid(), "etcd's return restarts nothing either");
    }
}
