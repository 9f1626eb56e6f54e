package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HealthSpec;
import io.intent.store.model.Phase;
import io.intent.store.model.PortSpec;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Ports;
import io.intent.testkit.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** setlive's Docker runtime against the real dockerd, with the demo app in a locally built busybox image. */
class SetliveDockerTest {
    /**
     * Unique per JVM: other checkouts run this class at the same time against the same dockerd, and an agent
     * garbage-collects every container labelled with its host that its own etcd does not assign (and the cleanup
     * below force-removes them), so a shared host name lets one run delete another's containers mid-test.
     */
    static final String HOST = "h3-" + ProcessHandle.current().pid();
    static final String ADDR = "127.0.0.4";
    static final String IMAGE = "intent-setlive-test-demo-" + ProcessHandle.current().pid();
    static SetliveFixture fx;
    static Path root;
    static AgentRuntime agent;
    static DockerRuntime docker;
    static Map<String, String> images = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        Prerequisites.require("docker", "docker.io");
        fx = new SetliveFixture();
        root = fx.work.resolve("root-" + HOST);
        for (String v : new String[] {"1", "2"}) {
            images.put(v, DemoApp.dockerImage(IMAGE + ":" + v));
        }
        images.put("bad", DemoApp.dockerImage(IMAGE + ":bad", SetliveFixture.BROKEN_SERVER));
        docker = new DockerRuntime(SetliveConfig.DEFAULT_DOCKER_HOST, HOST, ADDR);
        agent = SetliveMain.parse("--etcd", fx.etcd.endpoint(0), "--host", HOST, "--address", ADDR,
                "--root", root.toString(), "--resync", "1", "--http-port", "-1", "--stop-timeout", "3").start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (docker != null) {
            DockerClient c = docker.client();
            for (Container ct : c.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(DockerRuntime.LABEL_HOST, HOST)).exec()) {
                c.removeContainerCmd(ct.getId()).withForce(true).exec();
            }
            for (String v : images.keySet()) {
                c.removeImageCmd(IMAGE + ":" + v).withForce(true).exec();
            }
            docker.close();
        }
        if (fx != null) {
            fx.close();
        }
    }

    private static AppIntent intent(String active, int port) {
        return intent(active, port, 15);
    }

    private static AppIntent intent(String active, int port, int healthTimeout) {
        Map<String, VersionSpec> vs = new LinkedHashMap<>();
        images.keySet().forEach(v -> vs.put(v, new VersionSpec(null, null, IMAGE + ":" + v, null, false)));
        return new AppIntent(vs, active, new RunSpec(List.of("/app/bin/server"), Map.of(), null),
                List.of(new PortSpec("http", port, "tcp")), 1, null, null, new HealthSpec("/healthz", "http", healthTimeout),
                "docker", null, null);
    }

    private static List<Container> containers(String app) {
        return docker.client().listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(DockerRuntime.LABEL_HOST, HOST, DockerRuntime.LABEL_APP, app)).exec();
    }

    @Test
    void aHostAsksTheEngineOnlyOnceItsInstallsOrContainersShowADockerApp() throws Exception {
        Path legacy = fx.work.resolve("legacy-" + HOST);
        Path marker = legacy.resolve("setlive").resolve(DockerUse.MARKER);
        DemoApp.install(legacy, "plain", "1", fx.tarball, null);
        try (DockerRuntime processesOnly = new DockerRuntime(SetliveConfig.DEFAULT_DOCKER_HOST, HOST, ADDR,
                LogLimits.DEFAULT, new InstallLayout(legacy))) {
            assertFalse(Files.exists(marker));
            assertEquals(java.util.Set.of(), processesOnly.apps());
            assertFalse(processesOnly.mayHave("plain"));
        }
        // a node from before the marker ran a Docker app here: its install names an image, so it is listed again
        DemoApp.install(legacy, "boxed", "1", fx.tarball, images.get("1"));
        try (DockerRuntime upgraded = new DockerRuntime(SetliveConfig.DEFAULT_DOCKER_HOST, HOST, ADDR,
                LogLimits.DEFAULT, new InstallLayout(legacy))) {
            assertTrue(Files.exists(marker));
        }
    }

    @Test
    void runsSwitchesAndRemovesContainersIdempotently() throws Exception {
        int port = Ports.free();
        // the preparer's output for docker versions: a marker naming the local image id
        for (var v : images.entrySet()) {
            DemoApp.install(root, "boxed", v.getKey(), fx.tarball, v.getValue());
        }
        fx.assign(HOST, "boxed", intent("1", port));
        SetliveFixture.awaitAnswers(ADDR, port, "1");
        fx.awaitStatus(HOST, "boxed", Phase.READY, null);
        List<Container> first = containers("boxed");
        assertEquals(1, first.size());
        assertEquals("/intent-" + HOST + "-boxed-1", first.get(0).getNames()[0]);
        // the host's first container was preceded by the marker that makes later agents list the engine
        assertTrue(Files.exists(root.resolve("setlive").resolve(DockerUse.MARKER)));
        assertEquals("1", first.get(0).getLabels().get(DockerRuntime.LABEL_VERSION));
        var inspected = docker.client().inspectContainerCmd(first.get(0).getId()).exec();
        assertEquals(Boolean.TRUE, inspected.getHostConfig().getInit());
        assertEquals("unless-stopped", inspected.getHostConfig().getRestartPolicy().getName());
        assertEquals(images.get("1"), inspected.getImageId());
        assertEquals("../../installs/boxed/1", Files.readSymbolicLink(new InstallLayout(root).current("boxed"))
                .toString());

        // resyncs (every second) leave the running container alone
        int before = agent.convergers().get(0).reconciles();
        await().atMost(Duration.ofSeconds(20)).until(() -> agent.convergers().get(0).reconciles() >= before + 3);
        assertEquals(List.of(first.get(0).getId()), containers("boxed").stream().map(Container::getId).toList());
        assertEquals(inspected.getState().getStartedAt(),
                docker.client().inspectContainerCmd(first.get(0).getId()).exec().getState().getStartedAt());

        fx.assign(HOST, "boxed", intent("2", port));
        SetliveFixture.awaitAnswers(ADDR, port, "2");
        await().atMost(Duration.ofSeconds(20)).until(() -> containers("boxed").size() == 1);
        assertEquals("/intent-" + HOST + "-boxed-2", containers("boxed").get(0).getNames()[0]);
        assertTrue(fx.endpoint(HOST, "boxed").map(e -> e.version().equals("2")).orElse(false)
                || fx.awaitStatus(HOST, "boxed", Phase.READY, null) != null);

        fx.unassign(HOST, "boxed");
        await().atMost(Duration.ofSeconds(30)).until(() -> containers("boxed").isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> fx.status(HOST, "boxed").isEmpty());
        assertEquals(null, SetliveFixture.body(ADDR, port));
        assertTrue(fx.endpoint(HOST, "boxed").isEmpty());
    }

    @Test
    void aContainerFailingItsHealthCheckIsReplacedByTheOldOneAgain() throws Exception {
        int port = Ports.free();
        for (String v : new String[] {"1", "bad"}) {
            DemoApp.install(root, "sulky", v, fx.tarball, images.get(v));
        }
        fx.assign(HOST, "sulky", intent("1", port, 3));
        SetliveFixture.awaitAnswers(ADDR, port, "1");
        String firstId = containers("sulky").get(0).getId();
        Instant firstStart = Instant.parse(docker.client().inspectContainerCmd(firstId).exec().getState().getStartedAt());

        fx.assign(HOST, "sulky", intent("bad", port, 3));
        var st = fx.awaitStatus(HOST, "sulky", Phase.FAILED, "rolled back to 1");
        assertTrue(st.message().contains("bad did not pass its health check"), st.message());
        SetliveFixture.awaitAnswers(ADDR, port, "1");
        // the rollback started the old container again rather than a new one: it is the only container of version 1,
        // and it was started after its first start. (The crash-loop retry of "bad" may already have stopped it again,
        // 0.25-0.5 s after the status, so what runs at this instant is not the question.)
        List<Container> all = containers("sulky");
        assertEquals(List.of(firstId), all.stream()
                .filter(c -> "1".equals(c.getLabels().get(DockerRuntime.LABEL_VERSION))).map(Container::getId).toList(),
                () -> "the old container itself serves again; containers: " + all.stream()
                        .map(c -> c.getNames()[0] + " " + c.getId() + " " + c.getState()).toList());
        Instant restarted = Instant.parse(docker.client().inspectContainerCmd(firstId).exec().getState().getStartedAt());
        assertTrue(restarted.isAfter(firstStart), "the old container was started again: " + firstStart + " -> "
                + restarted);

        // the operator rolls back: nothing restarts, and the failed container is cleaned up
        fx.assign(HOST, "sulky", intent("1", port, 3));
        fx.awaitStatus(HOST, "sulky", Phase.READY, null);
        await().atMost(Duration.ofSeconds(20)).until(() -> containers("sulky").size() == 1);
        assertEquals(firstId, containers("sulky").get(0).getId());
        fx.unassign(HOST, "sulky");
        await().atMost(Duration.ofSeconds(30)).until(() -> containers("sulky").isEmpty());
    }
}
