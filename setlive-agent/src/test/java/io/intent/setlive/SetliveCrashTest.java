package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.Json;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** setlive as a real process: SIGKILL in the middle of switches, and restarts that must not touch live apps. */
class SetliveCrashTest {
    static final String HOST = "h2";
    static final String ADDR = "127.0.0.3";
    static SetliveFixture fx;
    static Path root;
    static InstallLayout layout;
    JvmProcess agent;
    static int starts;

    @BeforeAll
    static void setUp() throws Exception {
        fx = new SetliveFixture();
        root = fx.work.resolve("root-" + HOST);
        layout = new InstallLayout(root);
    }

    @AfterEach
    void stopAgent() {
        if (agent != null) {
            agent.close();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        Runsvdir.shutdown(layout.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(3));
        if (fx != null) {
            fx.close();
        }
    }

    private JvmProcess startAgent() {
        starts++;
        return JvmProcess.start(SetliveMain.class, List.of("--etcd", fx.etcd.endpoint(0), "--host", HOST,
                "--address", ADDR, "--root", root.toString(), "--resync", "1", "--liveness-ttl", "3",
                "--http-port", "-1", "--stop-timeout", "3"), Map.of(),
                fx.work.resolve("agent-" + HOST + "-" + starts + ".log"));
    }

    private static long pid(String app) throws Exception {
        return Sv.status(layout.service(app)).pid();
    }

    @Test
    void anAgentRestartLeavesTheLiveAppAlone() throws Exception {
        int port = Ports.free();
        DemoApp.install(root, "calm", "1.0", fx.tarball, null);
        agent = startAgent();
        fx.assign(HOST, "calm", fx.intent("1.0", port, Map.of(), "1.0"));
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        fx.awaitStatus(HOST, "calm", Phase.READY, null);
        long pid = pid("calm");
        long runsvdir = Runsvdir.find(layout.servicesDir(), root.resolve("setlive")).orElseThrow();

        agent.kill9();
        assertEquals("1.0", SetliveFixture.body(ADDR, port), "the app serves while no agent runs");
        agent = startAgent();
        // a second app proves the new agent works; by then it has also reconciled 'calm' (resync 1 s), and the
        // old agent's lease (TTL 3 s) has expired, so the endpoint must have been republished on the new one
        int port2 = Ports.free();
        DemoApp.install(root, "probe", "1.0", fx.tarball, null);
        fx.assign(HOST, "probe", fx.intent("1.0", port2, Map.of(), "1.0"));
        SetliveFixture.awaitAnswers(ADDR, port2, "1.0");
        // five resyncs (1 s) of the new agent leave the live app alone
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> pid("calm") == pid);
        assertEquals(runsvdir, Runsvdir.find(layout.servicesDir(), root.resolve("setlive")).orElseThrow(),
                "the same runsvdir supervises");
        assertEquals(Phase.READY, fx.status(HOST, "calm").orElseThrow().phase());
        await().atMost(Duration.ofSeconds(10)).until(() -> fx.endpoint(HOST, "calm").isPresent());
        fx.unassign(HOST, "probe");
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(layout.service("probe")));
    }

    /**
     * Waits for one stage of the switch to {@code active}, seen on disk (the app takes 1 s to answer, so each lasts
     * long enough to be seen): 0, the switch is recorded (before the stop); 1, {@code current} points at the new
     * version (swapped, starting); 2, the new version is started and waited for. A switch that ended before its
     * stage was seen is a fine moment to kill the agent, too.
     */
    private static void awaitStage(int stage, String active, Duration poll) {
        Path record = root.resolve("setlive/switches/crashy.json");
        await().atMost(Duration.ofSeconds(30)).pollInterval(poll).ignoreExceptions().until(() -> {
            if (fx.status(HOST, "crashy").filter(s -> s.phase() == Phase.READY && active.equals(s.version()))
                    .isPresent()) {
                return true;
            }
            if (!Files.exists(record)) {
                return false;
            }
            return switch (stage) {
                case 0 -> true;
                case 1 -> Files.readSymbolicLink(layout.current("crashy")).toString().endsWith("/" + active);
                default -> Json.read(Files.readAllBytes(record), PendingSwitch.class).startedAt() != null;
            };
        });
    }

    @Test
    void killingTheAgentMidSwitchNeverLeavesCurrentOnAnIncompleteInstall() throws Exception {
        int port = Ports.free();
        for (String v : new String[] {"1.0", "2.0"}) {
            DemoApp.install(root, "crashy", v, fx.tarball, null);
        }
        // a slow start (1 s) widens the window in which the agent dies between stop and healthy
        AppIntent intent = fx.intent("1.0", port, Map.of("DEMO_START_DELAY", "1"), "1.0", "2.0");
        agent = startAgent();
        fx.assign(HOST, "crashy", intent);
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");

        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                Path link = layout.current("crashy");
                try {
                    Path target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
                    String version = target.getFileName().toString();
                    if (layout.completed("crashy", version).isEmpty() || !target.equals(layout.install("crashy",
                            version))) {
                        violations.add("current -> " + target + " is not a complete install");
                    }
                } catch (Exception e) {
                    violations.add("current unreadable: " + e);
                }
            }
        }, "current-watcher");
        watcher.start();
        try {
            Random rnd = new Random(42);
            String active = "1.0";
            for (int round = 0; round < 4; round++) {
                active = active.equals("1.0") ? "2.0" : "1.0";
                fx.assign(HOST, "crashy", intent.withActive(active));
                awaitStage(round % 3, active, Duration.ofMillis(1 + rnd.nextInt(20)));
                agent.kill9();
                agent = startAgent();
                SetliveFixture.awaitAnswers(ADDR, port, active);
                fx.awaitStatus(HOST, "crashy", Phase.READY, null);
                assertEquals("../../installs/crashy/" + active,
                        Files.readSymbolicLink(layout.current("crashy")).toString());
            }
        } finally {
            watching.set(false);
            watcher.join();
        }
        assertTrue(violations.isEmpty(), "current pointed elsewhere: " + violations.stream().limit(5).toList());
        assertTrue(Files.isSymbolicLink(layout.current("crashy")));
        assertTrue(Files.exists(layout.current("crashy"), LinkOption.NOFOLLOW_LINKS));
        try (var s = Files.list(layout.servicesDir())) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".new-crashy"))
                    .toList(), "no half-made service dirs left behind");
        }
    }
}
