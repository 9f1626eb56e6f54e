package io.intent.setlive;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.Json;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HealthSpec;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A running instance's state is in its status, an instance whose health check keeps failing is restarted, and
 * the backoff between such restarts survives an agent restart (real runit, real etcd).
 */
class SetliveLivenessTest {
    static final String HOST = "h1";
    static final String ADDR = "127.0.0.6";
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

    /** The demo app with its pages in {@code www}, probed every second, restarted after two failed probes. */
    private static AppIntent livenessIntent(String app, int port, Path www) {
        AppIntent i = SetliveFixture.asInstalled(root, app, fx.intent("1.0", port, Map.of("DEMO_WWW", www.toString()),
                "1.0"));
        return new AppIntent(i.versions(), i.active(), i.run(), i.ports(), 1, null, null,
                new HealthSpec("/healthz", "http", 3, 1, 2), null, null, null);
    }

    private static Map<String, Object> details(String app) {
        return fx.status(HOST, app).map(AgentStatus::details).orElse(Map.of());
    }

    private static int number(String app, String field) {
        Object v = details(app).get(field);
        return v == null ? -1 : ((Number) v).intValue();
    }

    @Test
    void aKilledInstanceIsCountedAsARestartWithItsSignalAndPid() throws Exception {
        int port = Ports.free();
        DemoApp.install(root, "counted", "1.0", fx.tarball, null);
        fx.assign(HOST, "counted", livenessIntent("counted", port, fx.work.resolve("www-counted")));
        fx.awaitStatus(HOST, "counted", Phase.READY, null);
        long pid = Sv.status(layout.service("counted")).pid();
        assertEquals(pid, ((Number) details("counted").get("pid")).longValue());
        assertEquals(0, number("counted", "restarts"));
        assertTrue(details("counted").containsKey("startedAt"), details("counted").toString());
        assertEquals("passing", details("counted").get("health"));

        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() ->
                number("counted", "restarts") == 1 && number("counted", "lastSignal") == 9
                        && fx.status(HOST, "counted").orElseThrow().phase() == Phase.READY);
        assertEquals(-1, number("counted", "lastExitCode"));
        assertNotEquals(pid, ((Number) details("counted").get("pid")).longValue());
        fx.unassign(HOST, "counted");
    }

    @Test
    void anInstanceWhoseHealthEndpointStartsFailingIsRestartedWithBackoffThatSurvivesAnAgentRestart()
            throws Exception {
        int port = Ports.free();
        Path www = fx.work.resolve("www-sick");
        DemoApp.install(root, "sick", "1.0", fx.tarball, null);
        fx.assign(HOST, "sick", livenessIntent("sick", port, www));
        fx.awaitStatus(HOST, "sick", Phase.READY, null);
        long pid = Sv.status(layout.service("sick")).pid();

        // the app keeps running but its health endpoint answers 404 (the demo app writes it again at start)
        Files.delete(www.resolve("healthz"));

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                Sv.status(layout.service("sick")).pid() != pid && number("sick", "restarts") == 1);
        assertEquals(1, number("sick", "livenessRestarts"));
        fx.awaitStatus(HOST, "sick", Phase.READY, null);
        Path record = root.resolve("setlive/restarts/sick.json");
        RestartRecord r = Json.read(Files.readAllBytes(record), RestartRecord.class);
        assertTrue(r.notBefore().isAfter(Instant.now()), "the next restart is backed off: " + r);

        // a new agent reads the backoff from disk: failing again before notBefore, the instance is not restarted
        host.restart();
        long pid2 = Sv.status(layout.service("sick")).pid();
        Files.delete(www.resolve("healthz"));
        fx.awaitStatus(HOST, "sick", Phase.FAILED, "backed off until");
        assertEquals(pid2, Sv.status(layout.service("sick")).pid());
        assertTrue(Instant.now().isBefore(r.notBefore()), "still within the backoff when it said so");

        // once the backoff is over it is restarted again, and the count rises
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() ->
                number("sick", "restarts") == 2 && Sv.status(layout.service("sick")).pid() != pid2);
        assertTrue(!Instant.now().isBefore(r.notBefore()), "not restarted before the backoff ended");
        fx.unassign(HOST, "sick");
    }
}
