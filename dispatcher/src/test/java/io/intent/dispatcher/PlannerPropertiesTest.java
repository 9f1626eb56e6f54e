package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.codec.Validation;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Placement;
import io.intent.store.model.PortSpec;
import io.intent.store.model.Resources;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants every plan keeps, checked on random clusters with random current assignments. */
class PlannerPropertiesTest {

    @Provide
    Arbitrary<PlanInput> clusters() {
        return Arbitraries.longs().map(PlannerPropertiesTest::randomCluster);
    }

    /** A random cluster: hosts with labels, capacities, drain and liveness; apps valid and not; a random store. */
    static PlanInput randomCluster(long seed) {
        Random r = new Random(seed);
        Map<String, HostSpec> hosts = new HashMap<>();
        Set<String> live = new HashSet<>();
        Set<String> graced = new HashSet<>();
        int hostCount = r.nextInt(12);
        for (int i = 0; i < hostCount; i++) {
            String name = "h" + i;
            Map<String, String> labels = new HashMap<>();
            labels.put("zone", List.of("a", "b", "c").get(r.nextInt(3)));
            if (r.nextBoolean()) {
                labels.put("disk", "ssd");
            }
            Resources cap = r.nextInt(5) == 0 ? null : new Resources(1 + r.nextInt(4), 512L * (1 + r.nextInt(8)));
            hosts.put(name, new HostSpec(labels, cap, "10.0.0." + (i + 1), r.nextInt(10) == 0));
            int state = r.nextInt(10);
            if (state < 7) {
                live.add(name);
            } else if (state < 8) {
                graced.add(name);
            }
        }
        List<PlanInput.App> apps = new ArrayList<>();
        int appCount = r.nextInt(10);
        for (int i = 0; i < appCount; i++) {
            String name = "app" + i;
            long rev = 100 + r.nextInt(50);
            if (r.nextInt(10) == 0) {
                apps.add(PlanInput.App.broken(name, rev, "unexpected character at line 1"));
                continue;
            }
            AppIntent a = Fixtures.app(r.nextInt(5), r.nextInt(3) * 0.5, 128L * r.nextInt(6));
            if (r.nextBoolean()) {
                List<Integer> ports = new ArrayList<>(List.of(80, 8080, 9090));
                Collections.shuffle(ports, r);
                a = Fixtures.withPorts(a, ports.subList(0, 1 + r.nextInt(2)).stream().mapToInt(x -> x).toArray());
            }
            Map<String, String> labels = r.nextInt(3) == 0 ? Map.of("zone", List.of("a", "b").get(r.nextInt(2)))
                    : Map.of();
            Map<String, String> prefer = r.nextBoolean() ? Map.of("disk", "ssd") : Map.of();
            a = Fixtures.withLabels(a, labels, prefer);
            if (r.nextInt(5) == 0) {
                a = Fixtures.stateful(a);
            }
            if (r.nextInt(12) == 0) {
                a = a.withActive("missing-version");
            }
            apps.add(PlanInput.App.valid(name, a, rev));
        }
        Map<Slot, Assignment> current = new HashMap<>();
        List<String> hostNames = new ArrayList<>(new TreeSet<>(hosts.keySet()));
        hostNames.add("gone-host");
        for (PlanInput.App app : apps) {
            for (String h : hostNames) {
                if (r.nextInt(4) == 0) {
                    AppIntent copy = app.intent() != null ? app.intent() : Fixtures.app(1);
                    current.put(new Slot(h, app.name()), r.nextInt(15) == 0 ? null
                            : new Assignment(app.name(), h, app.revision() - r.nextInt(2), copy));
                }
            }
        }
        if (r.nextBoolean() && !hostNames.isEmpty()) {
            current.put(new Slot(hostNames.get(0), "deleted-app"), new Assignment("deleted-app", hostNames.get(0), 3,
                    Fixtures.app(1)));
        }
        // some instances on live hosts run healthy; some dead hosts are held (disruption mode, rate limit)
        Set<Slot> healthy = new HashSet<>();
        current.keySet().forEach(slot -> {
            if (live.contains(slot.host()) && r.nextBoolean()) {
                healthy.add(slot);
            }
        });
        Map<String, String> held = new HashMap<>();
        Map<String, Long> missing = new HashMap<>();
        for (String h : hostNames) {
            if (!live.contains(h)) {
                missing.put(h, (long) r.nextInt(100));
                if (!graced.contains(h) && r.nextInt(3) == 0) {
                    held.put(h, "held for the test");
                }
            }
        }
        // shuffled insertion order: the planner must not depend on it
        List<PlanInput.App> shuffled = new ArrayList<>(apps);
        Collections.shuffle(shuffled, r);
        return PlanInput.of(shuffled, new LinkedHashMap<>(hosts), live, graced, current).withHealthy(healthy)
                .withHeld(held).withMissing(missing);
    }

    /** Dead, not held: a host being evacuated, whose instances stay only until replacements run healthy. */
    private static boolean evacuated(PlanInput in, String host) {
        return !in.live().contains(host) && !in.graced().contains(host) && !in.held().containsKey(host);
    }

    private static boolean frozen(PlanInput in, String app) {
        PlanInput.App a = in.apps().get(app);
        return a.intent() == null || !Validation.check(app, a.intent()).isEmpty();
    }

    @Property(tries = 400)
    void everyPlanKeepsTheRules(@ForAll("clusters") PlanInput in) {
        Plan p = Planner.plan(in);
        assertEquals(in.apps().keySet(), p.placements().keySet(), "one placement per app");
        Map<String, double[]> used = new HashMap<>();
        Map<String, double[]> frozenUse = new HashMap<>();
        Map<String, Map<String, String>> ports = new HashMap<>();
        Map<String, Integer> count = new HashMap<>();
        Map<String, Integer> leaving = new HashMap<>();
        Map<String, Integer> healthyLive = new HashMap<>();
        for (var e : p.assignments().entrySet()) {
            Slot s = e.getKey();
            assertTrue(in.apps().containsKey(s.app()), "no assignment for a deleted app: " + s);
            if (frozen(in, s.app())) {
                assertEquals(in.current().get(s), e.getValue(), "a frozen app's assignment is left as stored");
                Assignment a = e.getValue();
                if (a != null && in.hosts().containsKey(s.host())) {
                    add(frozenUse, s.host(), a.intent().resourcesOrDefault());
                    add(used, s.host(), a.intent().resourcesOrDefault());
                }
                continue;
            }
            AppIntent intent = in.apps().get(s.app()).intent();
            Assignment a = e.getValue();
            assertNotNull(a);
            assertEquals(new Assignment(s.app(), s.host(), in.apps().get(s.app()).revision(), intent), a,
                    "the assignment copies the current intent and its revision");
            HostSpec h = in.hosts().get(s.host());
            assertNotNull(h, "only hosts with a spec: " + s);
            assertTrue(!h.drainOrDefault(), "nothing on a draining host: " + s);
            boolean kept = in.current().containsKey(s);
            assertTrue(in.live().contains(s.host()) || kept, "new instances only on live hosts: " + s);
            intent.constraintsOrDefault().labels().forEach((k, v) ->
                    assertEquals(v, h.labels().get(k), "hard label " + k + " on " + s));
            add(used, s.host(), intent.resourcesOrDefault());
            for (PortSpec port : intent.ports()) {
                String holder = ports.computeIfAbsent(s.host(), x -> new HashMap<>())
                        .put(port.protocolOrDefault() + "/" + port.port(), s.app());
                assertTrue(holder == null || holder.equals(s.app()), "port " + port.port() + " shared on " + s);
            }
            if (!evacuated(in, s.host()) || intent.statefulOrDefault()) {
                count.merge(s.app(), 1, Integer::sum);
            } else {
                leaving.merge(s.app(), 1, Integer::sum);
            }
            if (in.live().contains(s.host()) && in.healthy().contains(s)) {
                healthyLive.merge(s.app(), 1, Integer::sum);
            }
        }
        used.forEach((host, u) -> {
            Resources cap = in.hosts().get(host).capacity();
            double[] f = frozenUse.getOrDefault(host, new double[2]);
            if (cap != null && (f[0] <= cap.cpu() && f[1] <= cap.memoryMb())) {
                assertTrue(u[0] <= cap.cpu() + 1e-6 && u[1] <= cap.memoryMb(), "capacity of " + host + " exceeded");
            }
        });
        for (PlanInput.App app : in.apps().values()) {
            Placement pl = p.placements().get(app.name());
            Set<String> on = new TreeSet<>();
            p.assignments().keySet().forEach(s -> {
                if (s.app().equals(app.name())) {
                    on.add(s.host());
                }
            });
            assertEquals(on, new TreeSet<>(pl.hosts()), "placement lists exactly the assigned hosts");
            if (frozen(in, app.name())) {
                assertTrue(pl.pendingReason().startsWith("invalid intent: "), pl.pendingReason());
            } else {
                int n = count.getOrDefault(app.name(), 0);
                int scale = app.intent().scaleOrDefault();
                assertTrue(n <= scale, "never more than scale, not counting instances on evacuated hosts");
                assertTrue(leaving.getOrDefault(app.name(), 0) <= Math.max(0, scale
                        - healthyLive.getOrDefault(app.name(), 0)), "an instance on an evacuated host stays only"
                        + " while the app lacks healthy instances: " + app.name());
                if (n < app.intent().scaleOrDefault()) {
                    assertNotNull(pl.pendingReason(), "a shortfall always has a reason");
                }
            }
        }
    }

    private static void add(Map<String, double[]> m, String host, Resources r) {
        double[] u = m.computeIfAbsent(host, x -> new double[2]);
        u[0] += r.cpu();
        u[1] += r.memoryMb();
    }

    @Property(tries = 400)
    void planningAConvergedStoreChangesNothing(@ForAll("clusters") PlanInput in) {
        Plan p = Planner.plan(in);
        PlanInput converged = in.withCurrent(p.assignments());
        Plan again = Planner.plan(converged);
        assertEquals(p, again);
        assertTrue(Changes.between(converged.current(), p.placements(), again).isEmpty());
    }

    @Property(tries = 300)
    void theSameInputGivesTheSamePlan(@ForAll("clusters") PlanInput in) {
        PlanInput copy = PlanInput.of(new ArrayList<>(in.apps().values()), new HashMap<>(in.hosts()),
                new HashSet<>(in.live()), new HashSet<>(in.graced()), new HashMap<>(in.current()))
                .withHealthy(new HashSet<>(in.healthy())).withHeld(new HashMap<>(in.held()))
                .withMissing(new HashMap<>(in.missing()));
        assertEquals(Planner.plan(in), Planner.plan(copy));
    }

    @Property(tries = 300)
    void addingAHostOrAnAppNeverMovesAPlacedInstance(@ForAll("clusters") PlanInput in) {
        Plan p = Planner.plan(in);
        PlanInput converged = in.withCurrent(p.assignments());
        Map<String, HostSpec> hosts = new TreeMap<>(converged.hosts());
        hosts.put("zz-new", Fixtures.host(Map.of("zone", "a", "disk", "ssd")));
        Set<String> live = new HashSet<>(converged.live());
        live.add("zz-new");
        List<PlanInput.App> apps = new ArrayList<>(converged.apps().values());
        apps.add(PlanInput.App.valid("zz-app", Fixtures.app(3, 0.5, 256), 1));
        Plan after = Planner.plan(PlanInput.of(apps, hosts, live, converged.graced(), converged.current())
                .withHealthy(converged.healthy()).withHeld(converged.held()).withMissing(converged.missing()));
        for (var e : p.assignments().entrySet()) {
            assertTrue(after.assignments().containsKey(e.getKey()), "moved: " + e.getKey());
            assertEquals(e.getValue(), after.assignments().get(e.getKey()));
        }
    }

    @Property(tries = 200)
    void onEqualHostsInstancesSpreadEvenly(@ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 40) int hostCount,
                                           @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 60) int appCount,
                                           @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 5) int scale) {
        Map<String, HostSpec> hosts = new HashMap<>();
        for (int i = 0; i < hostCount; i++) {
            hosts.put("h" + i, Fixtures.host(1000, 1_000_000));
        }
        List<PlanInput.App> apps = new ArrayList<>();
        for (int i = 0; i < appCount; i++) {
            apps.add(PlanInput.App.valid("a" + i, Fixtures.app(scale, 1, 100), i + 1));
        }
        Plan p = Planner.plan(PlanInput.of(apps, hosts, hosts.keySet(), Set.of(), Map.of()));
        Map<String, Integer> perHost = new HashMap<>();
        hosts.keySet().forEach(h -> perHost.put(h, 0));
        p.assignments().keySet().forEach(s -> perHost.merge(s.host(), 1, Integer::sum));
        int min = Collections.min(perHost.values());
        int max = Collections.max(perHost.values());
        assertTrue(max - min <= 1, "uneven spread " + perHost);
        assertEquals(appCount * Math.min(scale, hostCount), p.assignments().size());
    }
}
