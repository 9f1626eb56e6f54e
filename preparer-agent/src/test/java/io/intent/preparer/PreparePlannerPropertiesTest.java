package io.intent.preparer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.preparer.PreparePlanner.Observed;
import io.intent.preparer.PreparePlanner.Plan;
import io.intent.preparer.PreparePlanner.Work;
import io.intent.agent.converge.Result;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.VersionSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The preparer's decision step on random hosts: random installs on disk, a random {@code current}, random work
 * running or ended (reported or not), the kit's backoff running or not, against a random assignment.
 */
class PreparePlannerPropertiesTest {
    static final List<String> LISTABLE = List.of("1.0", "1.1", "2.0", "3.0");
    /** On disk but never listed: an old version, and a directory no version could be named (not ours). */
    static final List<String> UNLISTED = List.of("0.9", "bad name");

    /** A random assignment and what the host has for its app. */
    record Host(Assignment assignment, Observed observed) {
        Map<String, VersionSpec> listed() {
            return assignment.intent().versions();
        }
    }

    @Provide
    Arbitrary<Host> hosts() {
        return Arbitraries.longs().map(PreparePlannerPropertiesTest::randomHost);
    }

    static String sha(String version, int variant) {
        String seed = Integer.toHexString((version + "#" + variant).hashCode() & 0x7fffffff);
        return (seed + "0".repeat(64)).substring(0, 64);
    }

    static VersionSpec spec(String version, int variant) {
        return Intents.artifact("http://127.0.0.1:1/app-" + version + ".tar.gz", sha(version, variant));
    }

    static Host randomHost(long seed) {
        Random r = new Random(seed);
        Map<String, VersionSpec> versions = new LinkedHashMap<>();
        for (String v : LISTABLE) {
            if (versions.isEmpty() || r.nextInt(3) > 0) {
                versions.put(v, spec(v, r.nextInt(2)));
            }
        }
        Assignment a = Intents.process("app", 7, versions);
        Set<String> onDisk = new HashSet<>();
        for (String v : concat(LISTABLE, UNLISTED)) {
            if (r.nextBoolean()) {
                onDisk.add(v);
            }
        }
        List<String> ours = onDisk.stream().filter(v -> !v.contains(" ")).sorted().toList();
        String current = ours.isEmpty() || r.nextInt(3) == 0 ? null : ours.get(r.nextInt(ours.size()));
        String currentSha = current == null || r.nextInt(4) == 0 ? null : sha(current, r.nextInt(2));
        Set<String> complete = new HashSet<>();
        for (String v : versions.keySet()) {
            if (onDisk.contains(v) && r.nextBoolean()) {
                complete.add(v);
            }
        }
        Map<String, Work> work = new HashMap<>();
        for (String v : concat(LISTABLE, List.of("0.9"))) {
            switch (r.nextInt(4)) {
                case 0 -> work.put(v, Work.running(spec(v, r.nextInt(2)), r.nextInt(1000),
                        r.nextInt(3) == 0 ? -1 : 1000 + r.nextInt(1000)));
                case 1 -> work.put(v, Work.ended(spec(v, r.nextInt(2)), "sha256 mismatch for " + v,
                        r.nextBoolean()));
                default -> { }
            }
        }
        return new Host(a, new Observed(onDisk, current, currentSha, complete, work, r.nextBoolean()));
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @SuppressWarnings("unchecked")
    static List<String> detail(Result result, String key) {
        return (List<String>) result.details().getOrDefault(key, List.of());
    }

    static boolean runs(Observed o, String version) {
        Work w = o.work().get(version);
        return w != null && w.running();
    }

    /** True when the intent names other bytes for the version the app runs from (the preparer refuses). */
    static boolean inUseWithOtherBytes(Host h, String version) {
        Observed o = h.observed();
        return version.equals(o.current()) && o.currentSha256() != null
                && !o.currentSha256().equals(h.listed().get(version).sha256())
                && !o.complete().contains(version);
    }

    /** The ended work of a listed version that is neither complete nor refused as in use, else null. */
    static Work endedWorkToDecideOn(Host h, String version) {
        Work w = h.observed().work().get(version);
        boolean decided = h.observed().complete().contains(version) || inUseWithOtherBytes(h, version);
        return w == null || w.running() || decided ? null : w;
    }

    @Property
    void everyListedVersionIsReadyFailedOrPreparingExactlyOnce(@ForAll("hosts") Host h) {
        Result result = PreparePlanner.assigned(h.assignment(), h.observed()).result();
        List<String> all = new ArrayList<>();
        all.addAll(detail(result, "versions"));
        all.addAll(detail(result, "failed"));
        all.addAll(detail(result, "preparing"));
        assertEquals(new TreeSet<>(h.listed().keySet()), new TreeSet<>(all));
        assertEquals(h.listed().size(), all.size(), "no version in two lists: " + result.details());
        assertEquals(new TreeSet<>(h.observed().complete()), new TreeSet<>(detail(result, "versions")));
    }

    @Property
    void neverRemovesAListedVersionTheCurrentOneRunningWorkOrWhatItCouldNotHaveMade(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        for (String v : PreparePlanner.assigned(h.assignment(), o).remove()) {
            assertFalse(h.listed().containsKey(v), v + " is listed");
            assertFalse(v.equals(o.current()), v + " is current");
            assertFalse(runs(o, v), v + " is being prepared");
            assertFalse(v.contains(" "), v + " is no version name");
            assertTrue(o.onDisk().contains(v), v + " is not on disk");
        }
    }

    @Property
    void removesEveryUnlistedInstallThatMayGo(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        List<String> remove = PreparePlanner.assigned(h.assignment(), o).remove();
        for (String v : o.onDisk()) {
            if (!h.listed().containsKey(v) && !v.equals(o.current()) && !runs(o, v) && !v.contains(" ")) {
                assertTrue(remove.contains(v), v + " should be removed: " + remove);
            }
        }
    }

    @Property
    void startsOnlyListedIncompleteVersionsWithNoWorkRunning(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        Plan plan = PreparePlanner.assigned(h.assignment(), o);
        for (String v : plan.start()) {
            assertTrue(h.listed().containsKey(v));
            assertFalse(o.complete().contains(v), v + " is complete");
            assertFalse(runs(o, v), v + " runs already");
            assertFalse(inUseWithOtherBytes(h, v), v + " is in use with other bytes");
        }
        assertTrue(detail(plan.result(), "preparing").containsAll(plan.start()));
    }

    @Property
    void aReportedFailureIsNotRetriedWhileTheBackoffRuns(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        Plan plan = PreparePlanner.assigned(h.assignment(), o);
        h.listed().forEach((v, spec) -> {
            Work w = endedWorkToDecideOn(h, v);
            if (w == null || !w.spec().equals(spec)) {
                return;
            }
            if (!w.reported()) {
                assertEquals(w.failure(), plan.firstReports().get(v), "a new failure is reported first");
                assertFalse(plan.start().contains(v));
                assertTrue(detail(plan.result(), "failed").contains(v));
            } else if (o.backingOff()) {
                assertFalse(plan.start().contains(v), "retried before the backoff ran out");
                assertFalse(plan.firstReports().containsKey(v), "reported twice");
                assertTrue(detail(plan.result(), "failed").contains(v));
            } else {
                assertTrue(plan.start().contains(v), "retried once the backoff ran out");
            }
        });
    }

    @Property
    void endedWorkForAnotherSpecIsStartedOver(@ForAll("hosts") Host h) {
        Plan plan = PreparePlanner.assigned(h.assignment(), h.observed());
        h.listed().forEach((v, spec) -> {
            Work w = endedWorkToDecideOn(h, v);
            if (w != null && !w.spec().equals(spec)) {
                assertTrue(plan.start().contains(v), v);
            }
        });
    }

    @Property
    void theInstallAnAppRunsFromIsNeverReplacedWithOtherBytes(@ForAll("hosts") Host h) {
        Plan plan = PreparePlanner.assigned(h.assignment(), h.observed());
        String current = h.observed().current();
        if (current != null && h.listed().containsKey(current) && inUseWithOtherBytes(h, current)) {
            assertFalse(plan.start().contains(current));
            assertFalse(plan.remove().contains(current));
            assertTrue(detail(plan.result(), "failed").contains(current));
            assertTrue(plan.result().message().contains("refusing to replace the install of " + current));
        }
    }

    @Property
    void thePhaseSaysReadyOnlyWhenAllIsCompleteAndLooksAgainWhileWorkRuns(@ForAll("hosts") Host h) {
        Result result = PreparePlanner.assigned(h.assignment(), h.observed()).result();
        boolean allComplete = h.observed().complete().containsAll(h.listed().keySet());
        boolean preparing = !detail(result, "preparing").isEmpty();
        assertEquals(allComplete, result.phase() == Phase.READY, result.toString());
        assertEquals(!detail(result, "failed").isEmpty(), result.phase() == Phase.FAILED, result.toString());
        if (!allComplete && !(result.phase() == Phase.FAILED)) {
            assertEquals(Phase.PROGRESSING, result.phase());
        }
        assertEquals(preparing ? Duration.ofSeconds(1) : null, result.requeueAfter());
        assertEquals(h.assignment().intent().active(), result.version());
        assertEquals(7, result.observedRevision());
    }

    @Property
    void progressSumsTheBytesOfRunningWorkAndIsUnknownWhenAnyTotalIs(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        Plan plan = PreparePlanner.assigned(h.assignment(), o);
        List<String> preparing = detail(plan.result(), "preparing");
        if (preparing.isEmpty()) {
            assertNull(plan.result().details().get("bytesDone"));
            return;
        }
        long done = 0;
        long total = 0;
        boolean known = plan.start().isEmpty();
        for (String v : preparing) {
            Work w = o.work().get(v);
            if (w != null && w.running()) {
                done += w.bytesDone();
                known &= w.bytesTotal() >= 0;
                total += Math.max(0, w.bytesTotal());
            }
        }
        assertEquals(done, plan.result().details().get("bytesDone"));
        assertEquals(known ? total : -1L, plan.result().details().get("bytesTotal"));
    }

    @Property
    void onlyEndedWorkIsForgotten(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        for (Plan plan : List.of(PreparePlanner.assigned(h.assignment(), o), PreparePlanner.unassigned(o))) {
            for (String v : plan.forget()) {
                assertFalse(runs(o, v), v + " still runs");
            }
        }
    }

    @Property
    void anUnassignedAppLosesWhatMayGoAndWaitsForRunningWork(@ForAll("hosts") Host h) {
        Observed o = h.observed();
        Plan plan = PreparePlanner.unassigned(o);
        Set<String> expected = new TreeSet<>();
        for (String v : o.onDisk()) {
            if (!v.equals(o.current()) && !runs(o, v) && !v.contains(" ")) {
                expected.add(v);
            }
        }
        assertEquals(expected, new TreeSet<>(plan.remove()));
        assertTrue(plan.start().isEmpty());
        assertTrue(plan.removeAppDir());
        boolean running = o.work().values().stream().anyMatch(Work::running);
        assertEquals(!running, plan.result().removal());
        assertEquals(running ? Phase.WAITING : null, plan.result().phase());
        o.work().forEach((v, w) -> assertEquals(!w.running(), plan.forget().contains(v), v));
    }

    @Example
    void anAssignmentWithoutIntentIsRefused() {
        Result r = PreparePlanner.refusal("app", new Assignment("app", Intents.HOST, 3, null)).orElseThrow();
        assertEquals(Phase.FAILED, r.phase());
        assertEquals("assignment has no intent", r.message());
    }

    @Example
    void anInvalidVersionIsRefusedNamingTheField() {
        Assignment a = Intents.process("app", 3, Intents.versions("1.0",
                Intents.artifact("http://127.0.0.1:1/a.tar.gz", "not-a-digest")));
        Result r = PreparePlanner.refusal("app", a).orElseThrow();
        assertEquals(Phase.FAILED, r.phase());
        assertTrue(r.message().startsWith("cannot prepare: versions"), r.message());
        assertTrue(r.message().contains("sha256"), r.message());
    }

    @Example
    void aValidAssignmentIsNotRefused() {
        assertTrue(PreparePlanner.refusal("app", randomHost(1).assignment()).isEmpty());
    }
}
