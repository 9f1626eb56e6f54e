package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Placement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Moving sick instances: the once-per-window decision and the planner's move, as pure functions. */
class RescheduleTest {
    static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");

    private static PlanInput.App app(String name, AppIntent intent) {
        return PlanInput.App.valid(name, intent, 7);
    }

    private static Map<Slot, Assignment> on(String app, AppIntent intent, String... hosts) {
        Map<Slot, Assignment> out = new TreeMap<>();
        for (String h : hosts) {
            out.put(new Slot(h, app), new Assignment(app, h, 7, intent));
        }
        return out;
    }

    @Test
    void aSickInstanceIsMovedWhenItsAppHasNotMovedOneWithinTheWindow() {
        AppIntent web = Fixtures.app(1);
        var d = Reschedule.decide(Map.of("web", app("web", web)), on("web", web, "h1"),
                Map.of(new Slot("h1", "web"), "5 failures within 600 s"), Map.of(), T0);
        assertEquals(Set.of(new Slot("h1", "web")), d.moves().keySet());
        assertEquals(T0, d.moves().get(new Slot("h1", "web")).at());
        assertNull(d.nextTurn());
    }

    @Test
    void aSecondMoveWithinTheWindowWaitsForTheWindowToEnd() {
        AppIntent web = Fixtures.app(1);
        var last = new Placement.Rescheduled("h1", "h2", T0, "5 failures within 600 s");
        var d = Reschedule.decide(Map.of("web", app("web", web)), on("web", web, "h2"),
                Map.of(new Slot("h2", "web"), "5 failures within 600 s"), Map.of("web", last),
                T0.plus(Duration.ofSeconds(599)));
        assertTrue(d.moves().isEmpty());
        assertEquals(T0.plusSeconds(600), d.nextTurn());
        var later = Reschedule.decide(Map.of("web", app("web", web)), on("web", web, "h2"),
                Map.of(new Slot("h2", "web"), "again"), Map.of("web", last), T0.plusSeconds(600));
        assertEquals(Set.of(new Slot("h2", "web")), later.moves().keySet());
    }

    @Test
    void statefulAppsAndAppsWithReschedulingOffAreNeverMoved() {
        AppIntent db = Fixtures.stateful(Fixtures.app(1));
        var d = Reschedule.decide(Map.of("db", app("db", db)), on("db", db, "h1"),
                Map.of(new Slot("h1", "db"), "sick"), Map.of(), T0);
        assertTrue(d.moves().isEmpty());
        AppIntent off = Fixtures.app(1);
        off = new AppIntent(off.versions(), off.active(), off.run(), off.ports(), off.scale(), off.resources(),
                off.constraints(), off.health(), off.runtime(), off.stateful(), off.maxUnavailable(),
                new io.intent.store.model.RescheduleSpec(null, null, false), null);
        var d2 = Reschedule.decide(Map.of("web", app("web", off)), on("web", off, "h1"),
                Map.of(new Slot("h1", "web"), "sick"), Map.of(), T0);
        assertTrue(d2.moves().isEmpty());
    }

    @Test
    void atMostOneInstanceOfAnAppMovesAtATime() {
        AppIntent web = Fixtures.app(2);
        var d = Reschedule.decide(Map.of("web", app("web", web)), on("web", web, "h1", "h2"),
                Map.of(new Slot("h1", "web"), "sick", new Slot("h2", "web"), "sick"), Map.of(), T0);
        assertEquals(Set.of(new Slot("h1", "web")), d.moves().keySet());
    }

    private static PlanInput input(AppIntent web, Map<String, HostSpec> hosts, String... on) {
        return PlanInput.of(List.of(app("web", web)), hosts, hosts.keySet(), Set.of(), on("web", web, on));
    }

    @Test
    void thePlannerMovesTheSickInstanceToAnotherHostThatFitsAndSaysSoInThePlacement() {
        AppIntent web = Fixtures.app(1);
        Map<String, HostSpec> hosts = Map.of("h1", Fixtures.host(), "h2", Fixtures.host(), "h3", Fixtures.host());
        var move = new Reschedule.Move("5 failures within 600 s", T0);
        Plan plan = Planner.plan(input(web, hosts, "h1").withMoves(Map.of(new Slot("h1", "web"), move), Map.of()));
        // placed on h2; the sick instance stays on h1 until h2 runs healthy (below)
        assertEquals(List.of("h1", "h2"), plan.placements().get("web").hosts());
        assertEquals(new Placement.Rescheduled("h1", "h2", T0, "5 failures within 600 s", true),
                plan.placements().get("web").rescheduled());

        // once it left h1, the next plan, without a move, keeps it on h2 and carries the record forward
        PlanInput after = input(web, hosts, "h2").withMoves(Map.of(), Map.of("web",
                plan.placements().get("web").rescheduled()));
        Plan again = Planner.plan(after);
        assertEquals(List.of("h2"), again.placements().get("web").hosts());
        assertNull(again.placements().get("web").pendingReason());
        assertEquals(new Placement.Rescheduled("h1", "h2", T0, "5 failures within 600 s"),
                again.placements().get("web").rescheduled());
    }

    @Test
    void aSickInstanceWithNowhereElseToGoStaysAndThePlacementSaysWhy() {
        AppIntent web = Fixtures.app(2);
        Map<String, HostSpec> hosts = Map.of("h1", Fixtures.host(), "h2", Fixtures.host());
        var move = new Reschedule.Move("5 failures within 600 s", T0);
        Plan plan = Planner.plan(input(web, hosts, "h1", "h2")
                .withMoves(Map.of(new Slot("h1", "web"), move), Map.of()));
        Placement p = plan.placements().get("web");
        assertEquals(List.of("h1", "h2"), p.hosts());
        assertNull(p.rescheduled());
        assertNotNull(p.pendingReason());
        assertTrue(p.pendingReason().contains("no other host fits"), p.pendingReason());
    }

    @Test
    void aMovedSickInstanceStaysOnItsHostUntilItsReplacementRunsHealthy() {
        AppIntent web = Fixtures.app(1);
        Map<String, HostSpec> hosts = Map.of("h1", Fixtures.host(), "h2", Fixtures.host(), "h3", Fixtures.host());
        var move = new Reschedule.Move("5 failures within 600 s", T0);
        Plan plan = Planner.plan(input(web, hosts, "h1").withMoves(Map.of(new Slot("h1", "web"), move), Map.of()));
        // the replacement is placed on h2, and the sick instance keeps serving on h1 meanwhile
        assertEquals(Set.of(new Slot("h1", "web"), new Slot("h2", "web")), plan.assignments().keySet());
        Placement p = plan.placements().get("web");
        assertEquals("h1", p.rescheduled().from());
        assertEquals("h2", p.rescheduled().to());
        assertTrue(p.rescheduled().leavingOrDefault(), p.toString());
        assertTrue(p.pendingReason() != null && p.pendingReason().contains("stays until its replacement on h2"),
                p.pendingReason());

        // the next plans (no new move: the window holds it) keep both while h2 is not healthy, also with h1 healthy
        PlanInput next = PlanInput.of(List.of(app("web", web)), hosts, hosts.keySet(), Set.of(), plan.assignments())
                .withMoves(Map.of(), Map.of("web", p.rescheduled()));
        for (Set<Slot> healthy : List.of(Set.<Slot>of(), Set.of(new Slot("h1", "web")))) {
            Plan again = Planner.plan(next.withHealthy(healthy));
            assertEquals(plan.assignments().keySet(), again.assignments().keySet(), "healthy: " + healthy);
            assertEquals(p, again.placements().get("web"));
        }

        // once the replacement runs healthy the sick instance goes, and the move is kept as done
        Plan done = Planner.plan(next.withHealthy(Set.of(new Slot("h2", "web"))));
        assertEquals(Set.of(new Slot("h2", "web")), done.assignments().keySet());
        Placement after = done.placements().get("web");
        assertEquals(List.of("h2"), after.hosts());
        assertNull(after.pendingReason());
        assertEquals(new Placement.Rescheduled("h1", "h2", T0, "5 failures within 600 s"), after.rescheduled());

        // a later instance on h1 (the app scaled up) is an ordinary one, not a leaving one
        AppIntent two = Fixtures.app(2);
        Map<Slot, Assignment> both = new TreeMap<>(on("web", two, "h1", "h2"));
        Plan scaled = Planner.plan(PlanInput.of(List.of(app("web", two)), hosts, hosts.keySet(), Set.of(), both)
                .withMoves(Map.of(), Map.of("web", after.rescheduled())));
        assertEquals(both.keySet(), scaled.assignments().keySet());
        assertNull(scaled.placements().get("web").pendingReason());
    }
}
