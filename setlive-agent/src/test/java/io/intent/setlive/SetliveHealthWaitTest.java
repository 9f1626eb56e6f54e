package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HealthSpec;
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

/** Waiting for health holds no converge worker, and a switch in flight survives an agent restart (real runit). */
class SetliveHealthWaitTest {
    static final String HOST = "h1";
    static final String ADDR = "127.0.0.4";
    static InProcessAgent host;
    static SetliveFixture fx;
    static Path root;
    static InstallLayout layout;

    @BeforeAll
    static void start() throws Exception {
        host = new InProcessAgent(HOST, ADDR);
        fx = host.fx;
        root = host.root;
        layout = host.layout;
    }

    @AfterAll
    static void stop() throws Exception {
        if (host != null) {
            host.close();
        }
    }

    private static AppIntent withHealthTimeout(AppIntent intent, int seconds) {
        return new AppIntent(intent.versions(), intent.active(), intent.run(), intent.ports(), 1, null, null,
                new HealthSpec("/healthz", "http", seconds), null, null, null);
    }

    @Test
    void twoAppsThatNeverGetHealthyDoNotHoldUpAThirdAppsSwitch() throws Exception {
        for (String sick : new String[] {"sick-a", "sick-b"}) {
            DemoApp.install(root, sick, "1.0", fx.brokenTarball, null);
            fx.assign(HOST, sick, SetliveFixture.asInstalled(root, sick,
                    withHealthTimeout(fx.intent("1.0", Ports.free(), Map.of(), "1.0"), 3600)));
        }
        // both are started and waiting for a health check that never passes
        for (String sick : new String[] {"sick-a", "sick-b"}) {
            fx.awaitStatus(HOST, sick, Phase.PROGRESSING, "waiting for health");
            assertTrue(Files.exists(layout.service(sick).resolve("run")));
        }

        int port = Ports.free();
        DemoApp.install(root, "quick", "1.0", fx.tarball, null);
        long t0 = System.nanoTime();
        fx.assign(HOST, "quick", fx.intent("1.0", port, Map.of(), "1.0"));
        await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(20)).until(() ->
                "1.0".equals(SetliveFixture.body(ADDR, port))
                        && fx.status(HOST, "quick").filter(s -> s.phase() == Phase.READY).isPresent());
        System.out.printf("third app live in %d ms beside two apps waiting for health%n",
                (System.nanoTime() - t0) / 1_000_000);
        assertEquals(Phase.PROGRESSING, fx.status(HOST, "sick-a").orElseThrow().phase());
        assertEquals(Phase.PROGRESSING, fx.status(HOST, "sick-b").orElseThrow().phase());
        fx.unassign(HOST, "sick-a");
        fx.unassign(HOST, "sick-b");
        fx.unassign(HOST, "quick");
    }

    @Test
    void anAgentRestartDuringTheHealthWaitStillRollsBackAndGivesTheSlotBack() throws Exception {
        int port = Ports.free();
        DemoApp.install(root, "roll", "1.0", fx.tarball, null);
        DemoApp.install(root, "roll", "2.0", fx.brokenTarball, null);
        AppIntent intent = SetliveFixture.asInstalled(root, "roll",
                withHealthTimeout(fx.intent("1.0", port, Map.of(), "1.0", "2.0"), 4));
        fx.assign(HOST, "roll", intent);
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        fx.awaitStatus(HOST, "roll", Phase.READY, null);

        fx.assign(HOST, "roll", intent.withActive("2.0"));
        fx.awaitStatus(HOST, "roll", Phase.PROGRESSING, "waiting for health");
        String slots = fx.store.keys().rolloutRequest(HOST, "roll");
        assertEquals(1, fx.store.count(slots), "the switch holds a rollout slot");

        host.restart();

        AgentStatus st = fx.awaitStatus(HOST, "roll", Phase.FAILED, "rolled back to 1.0");
        assertTrue(st.message().contains("2.0 did not pass its health check"), st.message());
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        assertEquals("../../installs/roll/1.0", Files.readSymbolicLink(layout.current("roll")).toString());
        // given back, well before the old agent's lease (30 s) could have expired it
        await().atMost(Duration.ofSeconds(5)).until(() -> fx.store.count(slots) == 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> fx.endpoint(HOST, "roll")
                .filter(e -> e.version().equals("1.0")).isPresent());
        fx.unassign(HOST, "roll");
    }
}
