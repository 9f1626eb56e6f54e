package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host that has run Docker apps, whose engine is now stopped (the socket file is left, nobody listens): runit apps
 * start, and are stopped and cleaned up when unassigned, without the engine.
 */
class DeadDockerEngineTest {

    @Test
    void aRunitAppIsRemovedWhileTheDockerEngineIsDown(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("docker.sock");
        // bound then closed: the file stays, a connection to it is refused, as with a stopped dockerd
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        try (InProcessAgent a = new InProcessAgent("h1", "127.0.0.2", "--docker-host", "unix://" + socket)) {
            // the host has had a Docker app (DockerUse's marker), so setlive does ask the engine about containers
            Files.createDirectories(a.root.resolve("setlive"));
            Files.writeString(a.root.resolve("setlive").resolve(DockerUse.MARKER), "");
            a.restart();
            int port = Ports.free();
            DemoApp.install(a.root, "plain", "1.0", a.fx.tarball, null);
            a.fx.assign(a.host, "plain", a.fx.intent("1.0", port, Map.of(), "1.0"));
            SetliveFixture.awaitAnswers(a.address, port, "1.0");
            a.fx.awaitStatus(a.host, "plain", Phase.READY, null);
            long pid = Sv.status(a.layout.service("plain")).pid();

            a.fx.unassign(a.host, "plain");
            await().atMost(Duration.ofSeconds(30)).until(() -> a.fx.status(a.host, "plain").isEmpty());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            assertFalse(Files.exists(a.layout.service("plain")));
        }
    }
}
