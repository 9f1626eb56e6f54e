package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Ports;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A host where Docker is installed but its engine is stopped (the socket file is left, nobody listens): runit apps
 * start, and are stopped and cleaned up when unassigned, without the engine.
 */
class DeadDockerEngineTest {
    static final String HOST = "h1";
    static final String ADDR = "127.0.0.2";
    static SetliveFixture fx;
    static Path root;
    static InstallLayout layout;
    static AgentRuntime agent;

    @BeforeAll
    static void start() throws Exception {
        fx = new SetliveFixture();
        root = fx.work.resolve("root-" + HOST);
        layout = new InstallLayout(root);
        Path socket = fx.work.resolve("docker.sock");
        // bound then closed: the file stays, a connection to it is refused, as with a stopped dockerd
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        agent = SetliveMain.parse("--etcd", fx.etcd.endpoint(0), "--host", HOST, "--address", ADDR,
                "--root", root.toString(), "--resync", "1", "--http-port", "-1", "--stop-timeout", "3",
                "--docker-host", "unix://" + socket).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        Runsvdir.shutdown(layout.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(3));
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void aRunitAppIsRemovedWhileTheDockerEngineIsDown() throws Exception {
        int port = Ports.free();
        DemoApp.install(root, "plain", "1.0", fx.tarball, null);
        fx.assign(HOST, "plain", fx.intent("1.0", port, Map.of(), "1.0"));
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        fx.awaitStatus(HOST, "plain", Phase.READY, null);
        long pid = Sv.status(layout.service("plain")).pid();

        fx.unassign(HOST, "plain");
        await().atMost(Duration.ofSeconds(30)).until(() -> fx.status(HOST, "plain").isEmpty());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertFalse(Files.exists(layout.service("plain")));
    }
}
