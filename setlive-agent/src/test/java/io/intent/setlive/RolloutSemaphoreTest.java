package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Three hosts switching one app with maxUnavailable 1: at no moment are two of them down (observed). */
class RolloutSemaphoreTest {
    static final String[] HOSTS = {"r1", "r2", "r3"};
    static final String[] ADDRS = {"127.0.0.12", "127.0.0.13", "127.0.0.14"};
    static SetliveFixture fx;
    static final List<AgentRuntime> agents = new ArrayList<>();
    static final List<Path> roots = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        fx = new SetliveFixture();
        for (int i = 0; i < HOSTS.length; i++) {
            Path root = fx.work.resolve("root-" + HOSTS[i]);
            roots.add(root);
            agents.add(SetliveMain.parse("--etcd", fx.etcd.endpoint(0), "--host", HOSTS[i], "--address", ADDRS[i],
                    "--root", root.toString(), "--resync", "5", "--http-port", "-1", "--stop-timeout", "3").start());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        agents.forEach(AgentRuntime::close);
        for (Path root : roots) {
            InstallLayout l = new InstallLayout(root);
            Runsvdir.shutdown(l.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(3));
        }
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void withMaxUnavailableOneNoTwoHostsAreDownAtOnce() throws Exception {
        int port = Ports.free();
        for (Path root : roots) {
            DemoApp.install(root, "fleet", "1.0", fx.tarball, null);
            DemoApp.install(root, "fleet", "2.0", fx.tarball, null);
        }
        // a slow start (1 s) makes every host's switch long enough that overlaps would be seen
        AppIntent intent = fx.intent("1.0", port, Map.of("DEMO_START_DELAY", "1"), "1.0", "2.0");
        for (String h : HOSTS) {
            fx.assign(h, "fleet", intent);
        }
        for (String a : ADDRS) {
            SetliveFixture.awaitAnswers(a, port, "1.0");
        }

        for (String h : HOSTS) {
            fx.assign(h, "fleet", intent.withActive("2.0"));
        }
        // sampled every 5 ms until every host is on 2.0: how many hosts were down at once, and who waited
        Samples seen = new Samples();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(5)).until(() -> seen.sample(port));
        int maxDown = seen.maxDown;
        int samples = seen.samples;
        boolean sawWaitingForSlot = seen.sawWaitingForSlot;
        List<String> worst = seen.worst;
        for (String a : ADDRS) {
            assertEquals("2.0", SetliveFixture.body(a, port), "every host ends on 2.0");
        }
        assertTrue(maxDown <= 1, "two or more hosts were down at once: " + worst + " (" + samples + " samples)");
        assertEquals(1, maxDown, "the poller saw each host go down once (else it sampled too coarsely)");
        assertTrue(sawWaitingForSlot, "some host reported waiting for a rollout slot");
        await().atMost(Duration.ofSeconds(20)).until(() -> fx.store.count(fx.store.keys().rolloutPrefix()) == 0
                && fx.store.count(fx.store.keys().slotsPrefix()) == 0);
    }

    /** What the poller saw across its samples. */
    private static final class Samples {
        int maxDown;
        int samples;
        boolean sawWaitingForSlot;
        List<String> worst = List.of();

        /** One look at every host's port (and every tenth look, their statuses); true once all answer 2.0. */
        boolean sample(int port) {
            List<String> down = new ArrayList<>();
            int onNew = 0;
            for (int i = 0; i < ADDRS.length; i++) {
                String body = SetliveFixture.body(ADDRS[i], port);
                if (body == null) {
                    down.add(HOSTS[i]);
                } else if (body.equals("2.0")) {
                    onNew++;
                }
            }
            samples++;
            if (down.size() > maxDown) {
                maxDown = down.size();
                worst = down;
            }
            if (samples % 10 == 0) {
                for (String h : HOSTS) {
                    sawWaitingForSlot |= fx.status(h, "fleet").map(s -> s.phase() == Phase.WAITING
                            && s.message().contains("rollout slot")).orElse(false);
                }
            }
            return onNew == ADDRS.length;
        }
    }
}
