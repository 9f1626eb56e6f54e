package io.intent.api.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.store.model.PortSpec;
import io.intent.testkit.Apps;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The status model as a pure function of a snapshot. */
class StatusModelTest {
    static final StatusModel MODEL = new StatusModel(List.of("preparer", "setlive"));
    static final long REV = 10;

    /** A snapshot builder: one app "web" at revision 10, active 2.0. */
    static final class Snap {
        final Map<String, Entry<AppIntent>> apps = new HashMap<>();
        final Map<String, Entry<HostSpec>> hosts = new HashMap<>();
        final Map<String, Entry<Liveness>> live = new HashMap<>();
        final Map<String, Entry<Placement>> placements = new HashMap<>();
        final Map<String, Map<String, Entry<Assignment>>> assignments = new HashMap<>();
        final Map<String, Map<String, Map<String, Entry<AgentStatus>>>> statuses = new HashMap<>();

        Snap() {
            apps.put("web", entry("apps/web", intent(1, "2.0"), REV));
        }

        Snap scale(int n) {
            apps.put("web", entry("apps/web", intent(n, "2.0"), REV));
            return this;
        }

        Snap host(String h, boolean isLive) {
            hosts.put(h, entry("hosts/" + h, new HostSpec(Map.of(), null, null, false), 1));
            if (isLive) {
                live.put(h, entry("live/" + h, new Liveness(h, null, "a", 1, Instant.EPOCH), 2));
            }
            return this;
        }

        Snap placed(long rev, String reason, String... hs) {
            placements.put("web", entry("placement/web", new Placement(List.of(hs), hs.length, rev, reason), rev + 1));
            return this;
        }

        Snap assigned(String h, long rev) {
            assignments.computeIfAbsent(h, x -> new HashMap<>()).put("web",
                    entry("assign/" + h + "/web", new Assignment("web", h, rev, apps.get("web").value()), rev + 1));
            return this;
        }

        Snap report(String h, String agent, Phase phase, String version, long rev, String msg, int attempts,
                    Map<String, Object> details) {
            statuses.computeIfAbsent(h, x -> new HashMap<>()).computeIfAbsent("web", x -> new HashMap<>())
                    .put(agent, entry("status/" + h + "/web/" + agent, new AgentStatus(agent, phase, version, rev, msg,
                            attempts, Instant.EPOCH, null, details), rev + 2));
            return this;
        }

        Snap ready(String h, String version) {
            return report(h, "preparer", Phase.READY, version, REV, null, 0, Map.of())
                    .report(h, "setlive", Phase.READY, version, REV, null, 0, Map.of());
        }

        Observed build() {
            return new Observed(100, apps, hosts, live, placements, assignments, statuses);
        }

        AppState web() {
            return MODEL.app("web", build());
        }
    }

    static <T> Entry<T> entry(String key, T value, long rev) {
        return new Entry<>(key, value, null, null, rev, rev, 0);
    }

    static AppIntent intent(int scale, String active) {
        return Apps.app().version("1.0", "file:///a.tar.gz", "a".repeat(64))
                .version("2.0", "file:///b.tar.gz", "b".repeat(64)).active(active).command("bin/run")
                .port(new PortSpec("http", 8080, null)).scale(scale).build();
    }

    @Test
    void anAppWhoseEveryAgentIsReadyWithTheActiveVersionIsOkAndConverged() {
        AppState s = new Snap().host("h1", true).placed(REV, null, "h1").assigned("h1", REV).ready("h1", "2.0").web();
        assertEquals(State.OK, s.state());
        assertTrue(s.converged());
        assertEquals(1, s.ready());
        assertEquals("2.0", s.hosts().get(0).version());
    }

    @Test
    void theDispatchersDisruptionModeIsReadFromThePlacements() {
        Snap snap = new Snap().host("h1", false).assigned("h1", REV).ready("h1", "2.0");
        assertEquals(null, MODEL.disruption(snap.placed(REV, null, "h1").build()));
        String why = "host h1 unreachable for 40 s; disruption mode: 1 of 1 hosts unreachable (over 55 %); nothing"
                + " moves off an unreachable host until more are back";
        assertEquals("disruption mode: 1 of 1 hosts unreachable (over 55 %); nothing moves off an unreachable host"
                + " until more are back", MODEL.disruption(snap.placed(REV, why, "h1").build()));
    }

    @Test
    void withoutAPlacementTheAppIsPendingOnTheDispatcher() {
        AppState s = new Snap().host("h1", true).web();
        assertEquals(State.PENDING, s.state());
        assertTrue(s.pendingReason().contains("dispatcher"));
        assertFalse(s.converged());
    }

    @Test
    void thePendingReasonComesFromThePlacement() {
        AppState s = new Snap().scale(2).host("h1", true).placed(REV, "only 1 of 2 hosts match zone=a", "h1")
                .assigned("h1", REV).ready("h1", "2.0").web();
        assertEquals(State.PENDING, s.state());
        assertEquals("only 1 of 2 hosts match zone=a", s.pendingReason());
        assertEquals(1, s.ready());
    }

    @Test
    void aPlacementOfAnOlderIntentRevisionIsPending() {
        AppState s = new Snap().host("h1", true).placed(REV - 3, null, "h1").assigned("h1", REV - 3)
                .ready("h1", "2.0").web();
        assertEquals(State.PENDING, s.state());
        assertTrue(s.pendingReason().contains("revision " + REV), s.pendingReason());
    }

    @Test
    void anAssignmentNotYetWrittenIsPending() {
        AppState s = new Snap().host("h1", true).placed(REV, null, "h1").web();
        assertEquals(State.PENDING, s.state());
        assertEquals(State.PENDING, s.hosts().get(0).state());
    }

    @Test
    void aWorkingPreparerIsPreparingWithItsProgress() {
        AppState s = new Snap().host("h1", true).placed(REV, null, "h1").assigned("h1", REV)
                .report("h1", "preparer", Phase.PROGRESSING, "2.0", REV, "fetching 2.0", 0,
                        Map.of("bytesDone", 250, "bytesTotal", 1000))
                .report("h1", "setlive", Phase.WAITING, null, REV, "install 2.0 missing", 0, Map.of()).web();
        assertEquals(State.PREPARING, s.state());
        HostState h = s.hosts().get(0);
        assertEquals(25L, ((Number) h.progress().get("percent")).longValue());
        assertTrue(h.message().startsWith("preparer: fetching"), h.message());
    }

    @Test
    void anAgentThatHasNotReportedYetKeepsTheHostPreparing() {
        AppState s = new Snap().host("h1", true).placed(REV, null, "h1").assigned("h1", REV)
                .report("h1", "preparer", Phase.READY, "2.0", REV, null, 0, Map.of()).web();
        assertEquals(State.PREPARING, s.state());
        assertEquals("no report yet", s.hosts().get(0).agents().get(1).message());
    }

    @Test
    void aReportAboutAnOlderAssignmentIsNotTrusted() {
        AppState s = new Snap().host("h1", true).placed(REV, null, "h1").assigned("h1", REV)
                .report("h1", "preparer", Phase.READY, "2.0", REV - 1, null, 0, Map.of())
                .report("h1", "setlive", Phase.READY, "2.0", REV, null, 0, Map.of()).web();
        assertEquals(State.PREPARING, s.state());
        assertTrue(s.message().contains("has not seen revision"), s.message());
    }

    @Test
    void readyWithAnotherVersionIsAVersionMismatch() {
        AppState s = new Snap().host("h1", true).placed(REV, null, "h1").assigned("h1", REV).ready("h1", "1.0").web();
        assertEquals(State.VERSION_MISMATCH, s.state());
        assertEquals("1.0", s.hosts().get(0).version());
        assertTrue(s.message().contains("active is 2.0"), s.message());
    }

    @Test
    void aFailedAgentMakesTheAppFailedWithItsMessageAndAttempts() {
        AppState s = new Snap().scale(2).host("h1", true).host("h2", true).placed(REV, null, "h1", "h2")
                .assigned("h1", REV).assigned("h2", REV).ready("h1", "2.0")
                .report("h2", "preparer", Phase.FAILED, "2.0", REV, "sha256 mismatch", 4, Map.of())
                .report("h2", "setlive", Phase.WAITING, null, REV, "waiting for install", 0, Map.of()).web();
        assertEquals(State.FAILED, s.state());
        assertTrue(s.message().contains("sha256 mismatch (attempt 4)"), s.message());
        assertEquals(4, s.hosts().get(1).agents().get(0).attempts());
        assertEquals(1, s.ready());
    }

    @Test
    void aPlacedHostThatIsNotLiveIsFailed() {
        AppState s = new Snap().host("h1", false).placed(REV, null, "h1").assigned("h1", REV).ready("h1", "2.0").web();
        assertEquals(State.FAILED, s.state());
        assertTrue(s.message().contains("not live"));
    }

    @Test
    void aHostTheAppIsLeavingKeepsItFromConvergingButNotFromOk() {
        AppState s = new Snap().host("h1", true).host("h2", true).placed(REV, null, "h1").assigned("h1", REV)
                .assigned("h2", REV).ready("h1", "2.0").ready("h2", "2.0").web();
        assertEquals(State.PENDING, s.state());
        assertFalse(s.converged());
        assertFalse(s.hosts().get(1).placed());
    }

    @Test
    void anInvalidOrUnreadableIntentIsFailed() {
        Snap snap = new Snap();
        snap.apps.put("web", entry("apps/web", intent(-1, "9.9"), REV));
        AppState s = snap.web();
        assertEquals(State.FAILED, s.state());
        assertTrue(s.message().startsWith("invalid intent"), s.message());
        snap.apps.put("web", new Entry<>("apps/web", null, "malformed JSON", "{", REV, REV, 0));
        assertEquals(State.FAILED, snap.web().state());
    }

    @Test
    void scaleZeroIsOkWithNoHosts() {
        AppState s = new Snap().scale(0).placed(REV, null).web();
        assertEquals(State.OK, s.state());
        assertTrue(s.converged());
    }

    @Test
    void theHostViewListsEveryAppOnItWithTheSameStates() {
        Snap snap = new Snap().host("h1", true).placed(REV, null, "h1").assigned("h1", REV).ready("h1", "1.0");
        HostStatus h = MODEL.host("h1", snap.build());
        assertTrue(h.live());
        assertEquals(State.VERSION_MISMATCH, h.state());
        assertEquals("web", h.apps().get(0).app());
        assertEquals(1, MODEL.hosts(snap.build()).size());
    }

    @Test
    void theHostViewShowsAssignmentsOfDeletedAppsAsBeingRemoved() {
        Snap snap = new Snap().host("h1", true).assigned("h1", REV);
        snap.apps.clear();
        HostStatus h = MODEL.host("h1", snap.build());
        assertEquals(State.PENDING, h.apps().get(0).state());
        assertNull(MODEL.app("web", snap.build()));
    }
}
