package io.intent.setlive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of setlive's pure decision step over generated situations: no runtime, no etcd, milliseconds. */
class SwitchPlanTest {
    static final Instant AT = Instant.parse("2026-12-02T12:00:00Z");
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    static LaunchSpec spec(String version) {
        return new LaunchSpec("web", "h1", version, "process", "127.0.0.2", "/r/installs/web/" + version,
                List.of("bin/server"), Map.of(), null, List.of(), null);
    }

    /** Fingerprints: a version plus a spec generation, so one version can have two specs. */
    static String print(String version, int gen) {
        return version + "#" + gen;
    }

    @Property(tries = 500)
    void aServingInstanceIsNeverTakenDownWithoutASlot(@ForAll("facts") SwitchPlan.Facts f) {
        if (!(SwitchPlan.decide(f) instanceof SwitchPlan.Switch s)) {
            return;
        }
        boolean running = f.now().map(AppRuntime.Instance::up).orElse(false) || f.otherHas();
        assertEquals(running, s.needsSlot());
        assertEquals(running, s.waitsForSlot(false, () -> true), "no slot, still serving: wait");
        assertFalse(s.waitsForSlot(true, () -> true), "a granted slot never waits");
        assertFalse(s.waitsForSlot(false, () -> false), "an instance that does not serve needs no slot");
        assertTrue(s.holdsSlot(true));
    }

    @Property(tries = 500)
    void steadyExactlyWhenTheWantedSpecRunsAloneAndNoSwitchIsPending(@ForAll("facts") SwitchPlan.Facts f) {
        boolean live = f.now().isPresent() && f.now().get().up() && f.wantPrint().equals(f.now().get().fingerprint())
                && f.version().equals(f.current()) && !f.otherHas();
        SwitchPlan.Plan plan = SwitchPlan.decide(f);
        if (plan instanceof SwitchPlan.Steady) {
            assertTrue(live, "steady while something else runs: " + f);
        }
        if (live && f.inFlight().isEmpty()) {
            assertInstanceOf(SwitchPlan.Steady.class, plan);
        }
    }

    @Property(tries = 500)
    void onlyTheSpecThatFailedBacksOffAndOnlyUntilItsNotBefore(@ForAll("facts") SwitchPlan.Facts f) {
        SwitchPlan.Plan plan = SwitchPlan.decide(f);
        if (plan instanceof SwitchPlan.BackOff b) {
            assertEquals(f.wantPrint(), f.book().failedFingerprint());
            assertTrue(b.left(f.at()).compareTo(Duration.ZERO) > 0);
            assertEquals(f.book().failedNotBefore(), b.until());
        }
        if (!f.wantPrint().equals(f.book().failedFingerprint()) || !f.book().backingOffSwitch(f.at())) {
            assertFalse(plan instanceof SwitchPlan.BackOff, "a new spec, or a backoff that ran out, goes at once");
        }
    }

    @Property(tries = 500)
    void aSwitchGoesBackOnlyToAnInstalledSpecAndCountsTheFailuresOnDisk(@ForAll("facts") SwitchPlan.Facts f) {
        if (!(SwitchPlan.decide(f) instanceof SwitchPlan.Switch s)) {
            return;
        }
        if (s.previous() != null) {
            assertTrue(f.installed().contains(s.previous().version()), "rollback target not installed: " + s);
        }
        if (f.inFlight().isEmpty() && f.sameSpec()) {
            assertEquals(null, s.previous(), "a restart of the wanted spec has nothing else to go back to");
        }
        assertEquals(f.book().failedAttemptsOf(f.wantPrint()), s.priorFailures());
        assertEquals(f.inFlight().map(PendingSwitch::slot).orElse(false), s.carriedSlot());
        assertEquals(f.node() && f.now().isPresent() && f.nodeIsThisProcess(), s.replaceSelf());
    }

    @Property(tries = 500)
    void aPendingSwitchStillRunningAndWantedIsWaitedForNotStartedAgain(@ForAll("facts") SwitchPlan.Facts f) {
        SwitchPlan.Plan plan = SwitchPlan.decide(f);
        if (f.inFlight().isEmpty()) {
            assertFalse(plan instanceof SwitchPlan.ContinueSwitch || plan instanceof SwitchPlan.WatchdogRolledBack);
            return;
        }
        PendingSwitch p = f.inFlight().get();
        if (!f.node() && SwitchPlan.stillConfigured(f, p) && p.wantedFingerprint().equals(f.wantPrint())) {
            assertEquals(new SwitchPlan.ContinueSwitch(p), plan);
        }
        if (plan instanceof SwitchPlan.Switch s) {
            assertEquals(p, s.supersedes());
        }
    }

    @Property(tries = 500)
    void aNodeThatHandedOverToItsSuccessorLeavesThePendingSwitchToIt(@ForAll("facts") SwitchPlan.Facts f) {
        SwitchPlan.Plan plan = SwitchPlan.decide(f);
        if (f.node() && f.handedOver() && f.inFlight().isPresent()) {
            assertEquals(new SwitchPlan.HandedOver(f.inFlight().get()), plan);
        } else {
            assertFalse(plan instanceof SwitchPlan.HandedOver, "only a node that handed over waits for its successor");
        }
    }

    /**
     * The node restarted itself into a new build and, before runit stopped it, was woken again: its own /readyz is
     * what answers, so probing would pass the new build and disarm the run script's watchdog.
     */
    @Example
    void aNodeBeingReplacedDoesNotJudgeItsSuccessorsHealthByItself() {
        PendingSwitch toC = PendingSwitch.begin(print("3.0", 0), spec("3.0"), spec("1.0"), true, AT.minusSeconds(2))
                .startedAt(AT.minusSeconds(1));
        AppRuntime.Instance self = new AppRuntime.Instance(spec("3.0"), print("3.0", 0), true, 42, AT.minusSeconds(30));
        SwitchPlan.Facts handedOver = new SwitchPlan.Facts(print("3.0", 0), "3.0", Optional.of(toC),
                Optional.of(self), "3.0", false, Set.of("1.0", "3.0"), true, true, true, RestartRecord.EMPTY, AT);
        assertEquals(new SwitchPlan.HandedOver(toC), SwitchPlan.decide(handedOver));
        // the successor (a new process: it has handed nothing over) waits for its health as before
        SwitchPlan.Facts successor = new SwitchPlan.Facts(print("3.0", 0), "3.0", Optional.of(toC),
                Optional.of(self), "3.0", false, Set.of("1.0", "3.0"), true, true, false, RestartRecord.EMPTY, AT);
        assertEquals(new SwitchPlan.ContinueSwitch(toC), SwitchPlan.decide(successor));
    }

    @Property(tries = 500)
    void aHealthCheckNeverRollsBackAHealthyOrRollingBackSwitchNorToNothing(
            @ForAll("pending") PendingSwitch p, @ForAll boolean healthy, @ForAll("seconds") int since,
            @ForAll boolean backInstalled, @ForAll boolean node, @ForAll boolean selfIsNew, @ForAll boolean oneShot) {
        Instant at = (p.startedAt() != null ? p.startedAt() : p.requestedAt()).plusSeconds(since);
        SwitchPlan.Outcome o = SwitchPlan.afterProbe(p, healthy, at, TIMEOUT, backInstalled, node, selfIsNew, oneShot);
        if (healthy) {
            assertEquals(p.rollingBack() ? SwitchPlan.Outcome.ROLLED_BACK : SwitchPlan.Outcome.SWITCHED, o);
            return;
        }
        if (since < TIMEOUT.toSeconds()) {
            assertTrue(o == SwitchPlan.Outcome.WAIT || o == SwitchPlan.Outcome.HAND_OVER_TO_NODE, o.name());
            return;
        }
        if (p.rollingBack()) {
            assertEquals(SwitchPlan.Outcome.ROLLBACK_FAILED, o, "a failed rollback is not rolled back again");
        } else if (o == SwitchPlan.Outcome.ROLL_BACK || o == SwitchPlan.Outcome.RESTART_NODE_INTO_PREVIOUS) {
            assertTrue(p.previous() != null && backInstalled, "rolled back to nothing");
        } else {
            assertTrue(p.previous() == null || !backInstalled, "stopped although it could go back: " + o);
        }
    }

    @Property(tries = 200)
    void everyFailureGrowsTheAttemptCountPastBothRecords(@ForAll("pending") PendingSwitch p,
                                                         @ForAll("books") RestartRecord book) {
        int n = SwitchPlan.attemptsAfterFailure(p, book);
        assertTrue(n > p.attempts());
        assertTrue(n > book.failedAttemptsOf(p.fingerprint()));
    }

    @Provide
    Arbitrary<Integer> seconds() {
        return Arbitraries.integers().between(0, 120);
    }

    static Arbitrary<String> versions() {
        return Arbitraries.of("1.0", "2.0", "3.0");
    }

    static Arbitrary<String> prints() {
        return Combinators.combine(versions(), Arbitraries.integers().between(0, 1)).as(SwitchPlanTest::print);
    }

    @Provide
    Arbitrary<PendingSwitch> pending() {
        Arbitrary<Optional<Integer>> startedAfter = Arbitraries.integers().between(0, 5).optional(0.8);
        return Combinators.combine(versions(), versions().injectNull(0.3), startedAfter, Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 4), Arbitraries.integers().between(0, 1),
                Arbitraries.of(true, false)).as((v, prev, started, slot, attempts, gen, rollback) -> {
                    PendingSwitch p = PendingSwitch.begin(print(v, gen), spec(v), prev == null ? null : spec(prev),
                            slot, AT.minusSeconds(60)).priorFailures(attempts);
                    if (started.isPresent()) {
                        p = p.startedAt(AT.minusSeconds(60 - started.get()));
                    }
                    return rollback && prev != null && started.isPresent()
                            ? p.rollback(print(prev, 0), "did not pass", attempts + 1, p.startedAt()) : p;
                });
    }

    @Provide
    Arbitrary<RestartRecord> books() {
        return Combinators.combine(prints().injectNull(0.3), Arbitraries.integers().between(0, 5),
                Arbitraries.integers().between(-30, 30)).as((fp, attempts, left) -> fp == null ? RestartRecord.EMPTY
                        : new RestartRecord(0, 0, null, null, List.of(), 0, fp, attempts, AT.plusSeconds(left),
                        "2.0 did not pass its health check"));
    }

    @Provide
    Arbitrary<SwitchPlan.Facts> facts() {
        Arbitrary<Optional<AppRuntime.Instance>> now = Combinators.combine(versions(),
                Arbitraries.integers().between(0, 1), Arbitraries.of(true, false))
                .as((v, gen, up) -> new AppRuntime.Instance(spec(v), print(v, gen), up, 42, AT.minusSeconds(5)))
                .optional(0.8);
        Arbitrary<Set<String>> installed = versions().set();
        return Combinators.combine(versions(), Arbitraries.integers().between(0, 1), pending().optional(0.4), now,
                versions().injectNull(0.2), Arbitraries.of(true, false), installed, books())
                .flatAs((v, gen, inFlight, inst, current, otherHas, inst2, book) ->
                        Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false),
                                Arbitraries.of(true, false)).as((node, self, handedOver) -> {
                            Set<String> all = new HashSet<>(inst2);
                            all.add(v);
                            return new SwitchPlan.Facts(print(v, gen), v, inFlight, inst, current, otherHas,
                                    Set.copyOf(all), node, self, node && self && handedOver, book, AT);
                        }));
    }
}
