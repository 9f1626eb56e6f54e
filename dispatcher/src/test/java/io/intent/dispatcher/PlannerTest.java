package io.intent.dispatcher;

import static io.intent.dispatcher.Fixtures.app;
import static io.intent.dispatcher.Fixtures.host;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Placement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PlannerTest {

    /** A mutable scenario: apps, hosts, liveness and the store's assignments, planned and applied in steps. */
    static final class Cluster {
        final Map<String, PlanInput.App> apps = new TreeMap<>();
        final Map<String, HostSpec> hosts = new TreeMap<>();
        final Set<String> live = new TreeSet<>();
        final Set<String> graced = new TreeSet<>();
        final Set<Slot> healthy = new TreeSet<>();
        final Map<String, String> held = new TreeMap<>();
        final Map<String, Long> missing = new TreeMap<>();
        final Set<String> unreadable = new TreeSet<>();
        Map<Slot, Assignment> current = new TreeMap<>();
        long revision = 10;

        Cluster app(String name, AppIntent intent) {
            apps.put(name, PlanInput.App.valid(name, intent, ++revision));
            return this;
        }

        Cluster host(String name, HostSpec spec) {
            hosts.put(name, spec);
            live.add(name);
            return this;
        }

        Cluster hosts(int n) {
            for (int i = 1; i <= n; i++) {
                host("h" + i, Fixtures.host());
            }
            return this;
        }

        PlanInput input() {
            return PlanInput.of(apps.values(), hosts, live, graced, current).withHealthy(healthy).withHeld(held)
                    .withMissing(missing).withUnreadable(unreadable);
        }

        Plan plan() {
            return Planner.plan(input());
        }

        /** Plans and stores the result as current, like a dispatcher that wrote it. */
        Plan apply() {
            Plan p = plan();
            current = new TreeMap<>(p.assignments());
            return p;
        }

        Set<String> hostsOf(String app) {
            Set<String> out = new TreeSet<>();
            current.keySet().forEach(s -> {
                if (s.app().equals(app)) {
                    out.add(s.host());
                }
            });
            return out;
        }
    }

    @Test
    void placesEachInstanceOnADistinctHost() {
        Cluster c = new Cluster().hosts(3).app("web", app(3));
        Plan p = c.apply();
        assertEquals(Set.of("h1", "h2", "h3"), c.hostsOf("web"));
        assertTrue(p.placements().get("web").complete());
    }

    @Test
    void moreInstancesThanHostsLeavesTheRestPendingWithAReason() {
        Cluster c = new Cluster().hosts(2).app("web", app(3));
        Placement p = c.apply().placements().get("web");
        assertEquals(2, p.hosts().size());
        assertEquals(3, p.wanted());
        assertTrue(p.pendingReason().contains("placed 2 of 3"), p.pendingReason());
        assertTrue(p.pendingReason().contains("2 already run it"), p.pendingReason());
    }

    @Test
    void spreadsOntoTheLeastLoadedHosts() {
        Cluster c = new Cluster().hosts(3).app("a", app(1, 2, 100));
        c.apply();
        c.app("b", app(1, 1, 100)).app("c", app(1, 1, 100));
        c.apply();
        assertEquals(1, c.hostsOf("a").size());
        String aHost = c.hostsOf("a").iterator().next();
        assertTrue(!c.hostsOf("b").contains(aHost) && !c.hostsOf("c").contains(aHost),
                "b and c go to the two empty hosts, not next to a: " + c.current.keySet());
        assertTrue(!c.hostsOf("b").equals(c.hostsOf("c")));
    }

    @Test
    void hardLabelsAreRequiredAndSoftPreferencesWin() {
        Cluster c = new Cluster()
                .host("a1", host(Map.of("zone", "a")))
                .host("a2", host(Map.of("zone", "a", "disk", "ssd")))
                .host("b1", host(Map.of("zone", "b", "disk", "ssd")))
                .app("db", Fixtures.withLabels(app(1), Map.of("zone", "a"), Map.of("disk", "ssd")))
                .app("zb", Fixtures.withLabels(app(2), Map.of("zone", "b"), Map.of()));
        Plan p = c.apply();
        assertEquals(Set.of("a2"), c.hostsOf("db"));
        assertEquals(Set.of("b1"), c.hostsOf("zb"));
        String reason = p.placements().get("zb").pendingReason();
        assertTrue(reason.contains("2 lack labels zone=b"), reason);
    }

    @Test
    void capacityIsNeverExceeded() {
        Cluster c = new Cluster().host("h1", host(1, 1000)).host("h2", host(1, 1000))
                .app("a", app(2, 0.6, 100)).app("b", app(2, 0.6, 100));
        Plan p = c.apply();
        assertEquals(2, c.hostsOf("a").size());
        assertEquals(0, c.hostsOf("b").size());
        assertTrue(p.placements().get("b").pendingReason().contains("2 lack room for cpu 0.6"),
                p.placements().get("b").pendingReason());
    }

    @Test
    void twoAppsWithTheSameHostPortNeverShareAHost() {
        Cluster c = new Cluster().hosts(2)
                .app("a", Fixtures.withPorts(app(2), 8080))
                .app("b", Fixtures.withPorts(app(1), 8080));
        Plan p = c.apply();
        assertEquals(2, c.hostsOf("a").size());
        assertEquals(0, c.hostsOf("b").size());
        assertTrue(p.placements().get("b").pendingReason().contains("port tcp/8080 taken"),
                p.placements().get("b").pendingReason());
    }

    @Test
    void aNewHostDoesNotMoveAnything() {
        Cluster c = new Cluster().hosts(2).app("web", app(2));
        c.apply();
        Map<Slot, Assignment> before = c.current;
        c.host("h0", Fixtures.host());
        Plan p = c.plan();
        assertEquals(before, p.assignments());
        assertTrue(Changes.between(before, c.apply().placements(), p).isEmpty());
    }

    @Test
    void scaleDownRemovesFromTheMostLoadedHostFirst() {
        Cluster c = new Cluster().hosts(3).app("web", app(3, 0.1, 10));
        c.apply();
        // h2 carries an extra app, so it is the most loaded
        c.current.put(new Slot("h2", "big"), new Assignment("big", "h2", 1, app(1, 2, 100)));
        c.app("big", app(1, 2, 100));
        c.app("web", app(2, 0.1, 10));
        c.apply();
        assertEquals(Set.of("h1", "h3"), c.hostsOf("web"));
        assertEquals(Set.of("h2"), c.hostsOf("big"));
    }

    @Test
    void anIntentChangeRewritesTheAssignmentsInPlace() {
        Cluster c = new Cluster().hosts(3).app("web", app(2));
        c.apply();
        Map<Slot, Assignment> before = c.current;
        c.app("web", app(2).withActive("1.0"));
        Plan p = c.plan();
        Changes ch = Changes.between(before, Map.of(), p);
        assertEquals(before.keySet(), ch.assignmentPuts().keySet(), "same hosts, new values");
        ch.assignmentPuts().values().forEach(a -> assertEquals(c.revision, a.appRevision()));
        assertTrue(ch.assignmentDeletes().isEmpty());
    }

    @Test
    void aDrainedHostIsEmptiedAndGetsNothingNew() {
        Cluster c = new Cluster().hosts(3).app("web", app(2)).app("db", Fixtures.stateful(app(1)));
        c.apply();
        String drained = c.hostsOf("db").iterator().next();
        c.hosts.put(drained, Fixtures.host().withDrain(true));
        c.apply();
        c.current.keySet().forEach(s -> assertTrue(!s.host().equals(drained), "still on drained host: " + s));
        assertEquals(2, c.hostsOf("web").size());
        assertEquals(1, c.hostsOf("db").size());
    }

    @Test
    void aHostInItsGracePeriodKeepsItsInstancesButGetsNoNewOnes() {
        Cluster c = new Cluster().hosts(2).app("web", app(1));
        c.apply();
        String on = c.hostsOf("web").iterator().next();
        c.live.remove(on);
        c.graced.add(on);
        c.app("api", app(2));
        Plan p = c.apply();
        assertEquals(Set.of(on), c.hostsOf("web"));
        assertEquals(1, c.hostsOf("api").size());
        assertTrue(!c.hostsOf("api").contains(on));
        assertTrue(p.placements().get("api").pendingReason().contains("1 are not live"));
    }

    @Test
    void aDeadHostsInstanceIsReplacedBeforeItIsRemovedButAStatefulOneWaitsForIt() {
        Cluster c = new Cluster().hosts(2).app("web", app(1)).app("db", Fixtures.stateful(app(1)));
        c.apply();
        // make both land on h1 for the scenario, then let h1 die
        c.current = new TreeMap<>(Map.of(
                new Slot("h1", "web"), new Assignment("web", "h1", c.apps.get("web").revision(), app(1)),
                new Slot("h1", "db"), new Assignment("db", "h1", c.apps.get("db").revision(),
                        Fixtures.stateful(app(1)))));
        c.live.remove("h1");
        c.missing.put("h1", 47L);
        Plan p = c.apply();
        assertEquals(Set.of("h1", "h2"), c.hostsOf("web"), "the replacement is placed, the dead instance stays");
        assertEquals("host h1 unreachable for 47 s; its instance stays until a replacement runs healthy",
                p.placements().get("web").pendingReason());
        assertEquals(Set.of("h1"), c.hostsOf("db"));
        assertTrue(p.placements().get("db").pendingReason().contains("wait for dead host(s) h1"));

        assertEquals(p, c.plan(), "nothing changes until the replacement is healthy");
        c.healthy.add(new Slot("h2", "web"));
        p = c.apply();
        assertEquals(Set.of("h2"), c.hostsOf("web"), "removed once the replacement runs healthy");
        assertNull(p.placements().get("web").pendingReason());
    }

    @Test
    void whenNoOtherHostFitsTheDeadHostsInstanceStaysAndThePlacementSaysWhy() {
        Cluster c = new Cluster().hosts(3).app("web", app(3));
        c.apply();
        c.live.remove("h1");
        c.missing.put("h1", 47L);
        Plan p = c.apply();
        assertEquals(Set.of("h1", "h2", "h3"), c.hostsOf("web"));
        String why = p.placements().get("web").pendingReason();
        assertTrue(why.startsWith("host h1 unreachable for 47 s; no other host fits (placed 2 of 3: "), why);
        c.healthy.addAll(Set.of(new Slot("h2", "web"), new Slot("h3", "web")));
        c.apply();
        assertEquals(Set.of("h1", "h2", "h3"), c.hostsOf("web"), "2 healthy of 3 wanted: the third stays");
    }

    @Test
    void aHeldDeadHostKeepsItsInstancesAndGetsNoReplacement() {
        Cluster c = new Cluster().hosts(3).app("web", app(1));
        c.apply();
        String on = c.hostsOf("web").iterator().next();
        c.live.remove(on);
        c.held.put(on, "disruption mode: 2 of 3 hosts unreachable");
        c.missing.put(on, 60L);
        Plan p = c.apply();
        assertEquals(Set.of(on), c.hostsOf("web"));
        assertEquals("host " + on + " unreachable for 60 s; disruption mode: 2 of 3 hosts unreachable",
                p.placements().get("web").pendingReason());
    }

    @Test
    void aHostWithAnUnreadableSpecKeepsItsInstancesAndGetsNothingNew() {
        Cluster c = new Cluster().hosts(2).app("web", app(1));
        c.apply();
        String on = c.hostsOf("web").iterator().next();
        c.hosts.remove(on);
        c.unreadable.add(on);
        c.app("web", app(2));
        Plan p = c.apply();
        assertTrue(c.hostsOf("web").contains(on), "the instance stays on the unreadable host");
        assertEquals(2, c.hostsOf("web").size());
        c.app("api", app(2));
        p = c.apply();
        assertEquals(1, c.hostsOf("api").size(), "nothing new on the unreadable host");
        assertTrue(p.placements().get("api").pendingReason().contains("1 have an unreadable spec"));
    }

    @Test
    void scaleDownRemovesInstancesNotReportedHealthyFirst() {
        Cluster c = new Cluster().hosts(3).app("web", app(3));
        c.apply();
        c.healthy.addAll(Set.of(new Slot("h1", "web"), new Slot("h3", "web")));
        c.app("web", app(2));
        c.apply();
        assertEquals(Set.of("h1", "h3"), c.hostsOf("web"));
    }

    @Test
    void aBrokenIntentIsPendingWithItsReasonAndFrozenWhileOthersArePlaced() {
        Cluster c = new Cluster().hosts(2).app("web", app(1)).app("api", app(1));
        c.apply();
        Set<String> webHosts = c.hostsOf("web");
        c.apps.put("web", PlanInput.App.broken("web", 99, "unknown field 'scael'"));
        AppIntent noVersions = new AppIntent(Map.of(), "2.0", null, List.of(), 1, null, null, null, null, null, null);
        c.app("bad", noVersions);
        c.app("new", app(2));
        Plan p = c.apply();
        assertEquals(webHosts, c.hostsOf("web"), "a typo never takes a running app down");
        assertTrue(p.placements().get("web").pendingReason().contains("unknown field 'scael'"));
        String bad = p.placements().get("bad").pendingReason();
        assertTrue(bad.contains("versions: must list at least one version"), bad);
        assertTrue(bad.contains("run.command: required"), bad);
        assertEquals(Set.of(), c.hostsOf("bad"));
        assertEquals(2, c.hostsOf("new").size());
        assertTrue(p.placements().get("new").complete());
    }

    @Test
    void aDeletedAppLosesItsAssignmentsAndItsPlacement() {
        Cluster c = new Cluster().hosts(2).app("web", app(2));
        Plan first = c.apply();
        Map<Slot, Assignment> before = c.current;
        c.apps.remove("web");
        Plan p = c.plan();
        Changes ch = Changes.between(before, first.placements(), p);
        assertEquals(before.keySet(), new HashSet<>(ch.assignmentDeletes()));
        assertEquals(List.of("web"), ch.assignmentDeletes().stream().map(Slot::app).distinct().toList());
        assertEquals(List.of("web"), ch.placementDeletes());
    }

    @Test
    void anUndecodableAssignmentOfAValidAppIsRewritten() {
        Cluster c = new Cluster().hosts(1).app("web", app(1));
        c.current.put(new Slot("h1", "web"), null);
        Plan p = c.plan();
        Changes ch = Changes.between(c.current, Map.of(), p);
        assertNotNull(ch.assignmentPuts().get(new Slot("h1", "web")));
    }
}
