package io.intent.setlive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.codec.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure decisions of a switch waiting for health, and its record on disk. */
class PendingSwitchTest {
    private static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static LaunchSpec spec(String version) {
        return new LaunchSpec("web", "h1", version, "process", "127.0.0.2", "/r/installs/web/" + version,
                List.of("bin/server"), Map.of("A", "1"), null, List.of(), null);
    }

    @Test
    void theTimeoutCountsFromTheStartNotFromTheRequest() {
        PendingSwitch p = PendingSwitch.begin("f2", spec("2.0"), spec("1.0"), true, T0)
                .startedAt(T0.plusSeconds(10));
        assertEquals(PendingSwitch.Verdict.WAIT, p.judge(false, T0.plusSeconds(39), TIMEOUT));
        assertEquals(PendingSwitch.Verdict.TIMED_OUT, p.judge(false, T0.plusSeconds(40), TIMEOUT));
        assertEquals(PendingSwitch.Verdict.HEALTHY, p.judge(true, T0.plusSeconds(400), TIMEOUT));
        // not started yet (an agent killed between stop and start): counted from the request
        PendingSwitch notStarted = PendingSwitch.begin("f2", spec("2.0"), null, false, T0);
        assertEquals(PendingSwitch.Verdict.TIMED_OUT, notStarted.judge(false, T0.plusSeconds(30), TIMEOUT));
    }

    @Test
    void rechecksAreSoonAfterTheStartAndAtMostEvery250Ms() {
        PendingSwitch p = PendingSwitch.begin("f2", spec("2.0"), null, false, T0).startedAt(T0);
        assertEquals(Duration.ofMillis(10), p.recheckAfter(T0));
        assertEquals(Duration.ofMillis(50), p.recheckAfter(T0.plusMillis(100)));
        assertEquals(Duration.ofMillis(250), p.recheckAfter(T0.plusSeconds(3600)));
    }

    @Test
    void aRollbackRemembersWhatFailedAndGoesBackToTheLastHealthySpec() {
        PendingSwitch p = PendingSwitch.begin("f2", spec("2.0"), spec("1.0"), true, T0).startedAt(T0);
        assertEquals("1.0", p.lastHealthy().version());
        assertEquals("f2", p.wantedFingerprint());
        PendingSwitch r = p.rollback("f1", "2.0 did not pass", 3, T0.plusSeconds(30));
        assertTrue(r.rollingBack());
        assertEquals("1.0", r.started().version());
        assertEquals("1.0", r.lastHealthy().version(), "a switch superseding the rollback goes back to 1.0 too");
        assertNull(r.previous());
        assertEquals("f2", r.wantedFingerprint());
        assertEquals(3, r.attempts());
        assertTrue(r.slot());
        assertEquals(PendingSwitch.Verdict.WAIT, r.judge(false, T0.plusSeconds(59), TIMEOUT));
    }

    @Test
    void theRecordSurvivesARestartOfTheAgent(@TempDir Path dir) throws Exception {
        PendingSwitch p = PendingSwitch.begin("f2", spec("2.0"), spec("1.0"), true, T0).startedAt(T0.plusSeconds(1));
        new PendingSwitches(dir).put("web", p);
        assertEquals(p, new PendingSwitches(dir).get("web").orElseThrow());
        assertEquals(p, Json.read(Files.readAllBytes(dir.resolve("switches/web.json")), PendingSwitch.class));
        new PendingSwitches(dir).remove("web");
        assertTrue(new PendingSwitches(dir).get("web").isEmpty());
    }
}
