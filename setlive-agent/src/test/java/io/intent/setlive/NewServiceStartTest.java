package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A new app's first start does not wait for runsvdir's periodic scan (every 5 s): it runs under a runsv that
 * already supervised a spare service dir before the app was assigned (real etcd, real runit).
 */
class NewServiceStartTest {
    static final String HOST = "fresh";
    static final String ADDR = "127.0.0.6";
    static SetliveFixture fx;
    static Path root;
    static InstallLayout layout;
    static AgentRuntime agent;

    @BeforeAll
    static void start() throws Exception {
        fx = new SetliveFixture();
        root = fx.work.resolve("root-" + HOST);
        layout = new InstallLayout(root);
        agent = SetliveMain.parse("--etcd", fx.etcd.endpoint(0), "--host", HOST, "--address", ADDR,
                "--root", root.toString(), "--resync", "30", "--http-port", "-1", "--stop-timeout", "3").start();
        // a first app brings up runsvdir and the spares
        int first = Ports.free();
        DemoApp.install(root, "first", "1.0", fx.tarball, null);
        fx.assign(HOST, "first", SetliveFixture.asInstalled(root, "first", fx.intent("1.0", first, Map.of(), "1.0")));
        fx.awaitStatus(HOST, "first", Phase.READY, null);
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

    /** The runsv whose working directory is {@code dir} (runit's supervisor of that service). */
    static Optional<ProcessHandle> runsvOf(Path dir) throws Exception {
        Path real = dir.toRealPath();
        return ProcessHandle.allProcesses().filter(h -> h.info().command().orElse("").endsWith("/runsv"))
                .filter(h -> {
                    try {
                        return Path.of("/proc", Long.toString(h.pid()), "cwd").toRealPath().equals(real);
                    } catch (Exception e) {
                        return false;
                    }
                }).findFirst();
    }

    private static boolean aSpareIsSupervised() throws Exception {
        for (Path spare : new SpareServices(layout.servicesDir()).list()) {
            if (Sv.supervised(spare)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aNewAppRunsUnderARunsvThatWasReadyBeforeItWasAssigned() throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(NewServiceStartTest::aSpareIsSupervised);
        int port = Ports.free();
        DemoApp.install(root, "second", "1.0", fx.tarball, null);
        Instant assigned = Instant.now();
        long t0 = System.nanoTime();
        fx.assign(HOST, "second", SetliveFixture.asInstalled(root, "second", fx.intent("1.0", port, Map.of(),
                "1.0")));
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        long answeredMs = (System.nanoTime() - t0) / 1_000_000;

        ProcessHandle runsv = runsvOf(layout.service("second")).orElseThrow();
        Instant runsvStarted = runsv.info().startInstant().orElseThrow();
        assertTrue(runsvStarted.isBefore(assigned), "the runsv of a new app was started at " + runsvStarted
                + ", after the app was assigned at " + assigned + ": it waited for runsvdir's scan");
        // generous for a loaded machine, yet below runsvdir's 5 s scan plus its 1 s pause for a fresh change
        assertTrue(answeredMs < 5000, "answered " + answeredMs + " ms after the assignment");
        assertFalse(new RunitRuntime(layout, Runsvdir.Mode.AUTO).apps().stream().anyMatch(a -> a.startsWith("_")),
                "spares are no apps");
        // the pool is topped up for the next new app
        await().atMost(Duration.ofSeconds(20)).until(NewServiceStartTest::aSpareIsSupervised);
    }

    @Test
    void anAppWaitingForItsInstallStartsAsSoonAsThePreparerRenamesItIn() throws Exception {
        int port = Ports.free();
        AppIntent intent = fx.intent("1.0", port, Map.of(), "1.0");
        fx.assign(HOST, "later", intent);
        fx.awaitStatus(HOST, "later", Phase.WAITING, "waiting for install");
        await().atMost(Duration.ofSeconds(20)).until(NewServiceStartTest::aSpareIsSupervised);
        // a reconcile has just looked (its status carries the new revision): the kit would look again in 2 s
        long rev = fx.assign(HOST, "later", intent);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
                .until(() -> fx.status(HOST, "later").filter(s -> s.observedRevision() == rev).isPresent());

        long t0 = System.nanoTime();
        DemoApp.install(root, "later", "1.0", fx.tarball, null);
        SetliveFixture.awaitAnswers(ADDR, port, "1.0");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1500, "answered " + ms + " ms after its install was renamed in (the kit looks again after 2 s)");
    }
}
