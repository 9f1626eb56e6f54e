package io.intent.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.intent.preparer.PreparerMain;
import io.intent.setlive.HealthProbe;
import io.intent.setlive.Runsvdir;
import io.intent.setlive.SetliveMain;
import io.intent.dispatcher.HostSteward;
import io.intent.agent.InstallLayout;
import io.intent.store.etcd.Fence;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.Apps;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Ports;
import io.intent.testkit.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * New bytes under an old version name never reach a running app behind the rollout's back: the real preparer
 * and the real setlive (runit) on one host root.
 */
class RepublishedVersionTest {
    private static final String HOST = "h1";
    private static final String ADDR = "127.0.0.7";

    @Test
    void newBytesUnderTheLiveVersionNameAreRefusedAndTheRunningInstallIsUntouched() throws Exception {
        Prerequisites.require("etcd", "etcd-server");
        Prerequisites.require("runsvdir", "runit");
        Prerequisites.require("busybox", "busybox-static");
        Path work = Files.createTempDirectory("republish-test");
        Path root = work.resolve("root");
        InstallLayout layout = new InstallLayout(root);
        Path bytesA = DemoApp.tarball(work.resolve("a.tar.gz"));
        // other bytes: the same server, but its page says which bytes run
        Path bytesB = DemoApp.tarball(work.resolve("b.tar.gz"),
                DemoApp.serverScript().replace("printf '%s\\n' \"$version\"", "printf '%s-B\\n' \"$version\""));
        String shaA = DemoApp.sha256(bytesA);
        String shaB = DemoApp.sha256(bytesB);
        assertNotEquals(shaA, shaB);
        int port = Ports.free();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            String[] common = {"--etcd", etcd.endpoint(0), "--host", HOST, "--root", root.toString(),
                "--http-port", "-1", "--resync", "1"};
            // the leader's part that grants rollout slots (a switch of a serving instance waits for one)
            String fenceKey = store.keys().election() + "/test";
            store.put(fenceKey, Map.of("leader", "test"));
            HostSteward steward = HostSteward.follow(store);
            steward.lead(new Fence(fenceKey, store.get(fenceKey, Object.class).orElseThrow().createRevision()));
            PreparerMain preparer = new PreparerMain();
            List<String> preparerArgs = new java.util.ArrayList<>(List.of(common));
            preparerArgs.addAll(List.of("--artifact-file-roots", work.toString()));
            new CommandLine(preparer).parseArgs(preparerArgs.toArray(String[]::new));
            AgentRuntime preparing = preparer.start();
            List<String> setliveArgs = new java.util.ArrayList<>(List.of(common));
            setliveArgs.addAll(List.of("--address", ADDR, "--stop-timeout", "3"));
            AgentRuntime setlive = SetliveMain.parse(setliveArgs.toArray(String[]::new)).start();
            try {
                assign(store, intent(port, "1.0", Map.of("1.0", version(bytesA, shaA))));
                await().atMost(Duration.ofSeconds(40)).until(() -> "1.0".equals(body(port)));
                long pid = pid(layout);
                Path server = layout.install("web", "1.0").resolve("bin/server");
                Object inode = Files.getAttribute(server, "unix:ino");
                String script = Files.readString(server);

                // the operator re-points 1.0 at other bytes
                assign(store, intent(port, "1.0", Map.of("1.0", version(bytesB, shaB))));
                await().atMost(Duration.ofSeconds(20)).until(() -> status(store, "preparer")
                        .filter(s -> s.phase() == Phase.FAILED && s.message().contains(shaA)
                                && s.message().contains(shaB)).isPresent());
                await().atMost(Duration.ofSeconds(20)).until(() -> status(store, "setlive")
                        .filter(s -> s.phase() == Phase.WAITING && s.message().contains(shaB)).isPresent());
                // and nothing moves under the running app: same process, same files, same answer
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                        pid(layout) == pid && "1.0".equals(body(port))
                                && inode.equals(Files.getAttribute(server, "unix:ino"))
                                && script.equals(Files.readString(server)));

                // the way the status points to: the new bytes under a new name, a switch through the health gate
                Map<String, VersionSpec> both = new LinkedHashMap<>();
                both.put("1.0", version(bytesA, shaA));
                both.put("1.1", version(bytesB, shaB));
                assign(store, intent(port, "1.1", both));
                await().atMost(Duration.ofSeconds(40)).until(() -> "1.1-B".equals(body(port)));
                assertNotEquals(pid, pid(layout));
                AgentStatus live = await().atMost(Duration.ofSeconds(20)).until(() -> status(store, "setlive")
                        .orElse(null), s -> s != null && s.phase() == Phase.READY);
                // the switch's own message ("switched 1.0 -> 1.1") may already be followed by a steady "live and
                // healthy": what counts is that 1.1 is the live version and the process is a new one
                assertEquals("1.1", live.version(), live.toString());
            } finally {
                steward.close();
                setlive.close();
                preparing.close();
                Runsvdir.shutdown(layout.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(3));
            }
        }
    }

    private static VersionSpec version(Path tarball, String sha) {
        return new VersionSpec(tarball.toUri().toString(), sha, null, null);
    }

    private static AppIntent intent(int port, String active, Map<String, VersionSpec> versions) {
        return Apps.app().versions(versions).active(active).port("http", port).health("/healthz", "http", 10)
                .build();
    }

    private static void assign(EtcdStore store, AppIntent intent) {
        store.put(store.keys().assignment(HOST, "web"), new Assignment("web", HOST, System.nanoTime() & 0xffffff,
                intent));
    }

    private static Optional<AgentStatus> status(EtcdStore store, String agent) {
        return store.get(store.keys().status(HOST, "web", agent), AgentStatus.class).map(e -> e.value());
    }

    private static String body(int port) {
        String b = HealthProbe.httpBody(ADDR, port, "/");
        return b == null ? null : b.strip();
    }

    /** The pid runsv supervises for the app, from runit's own {@code supervise/pid}. */
    private static long pid(InstallLayout layout) throws Exception {
        Path f = layout.service("web").resolve("supervise/pid");
        String text = Files.exists(f) ? Files.readString(f).strip() : "";
        return text.isEmpty() ? 0 : Long.parseLong(text);
    }
}
