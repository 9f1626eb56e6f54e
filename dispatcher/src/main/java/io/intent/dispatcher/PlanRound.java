package io.intent.dispatcher;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One plan of a term: asks the decision steps ({@link Evacuation}, {@link Reschedule}, {@link Planner}) about the
 * fleet and the store as they stand, and yields the changes to write and when to plan again even if nothing
 * changes. Runs on the dispatcher's thread.
 */
final class PlanRound {
    private static final Logger log = LoggerFactory.getLogger(PlanRound.class);

    final Plan plan;
    final Changes changes;
    private final Set<String> known;
    private final Evacuation.Verdict verdict;
    private final Reschedule.Decision moves;

    private PlanRound(Plan plan, Changes changes, Set<String> known, Evacuation.Verdict verdict,
                      Reschedule.Decision moves) {
        this.plan = plan;
        this.changes = changes;
        this.known = known;
        this.verdict = verdict;
        this.moves = moves;
    }

    /** Plans at {@code now} (nanoTime); reports the evacuation verdict to {@code metrics}. */
    static PlanRound plan(FleetView fleet, StoreView store, Evacuation evacuation, double threshold,
                          DispatchMetrics metrics, long now) {
        HostLiveness liveness = fleet.liveness();
        Set<String> known = fleet.known(store.hostsWithInstances());
        Set<String> graced = liveness.graced(known, now);
        Evacuation.Verdict verdict = evacuate(fleet, store, evacuation, known, graced, now);
        report(verdict, threshold, metrics);
        Map<String, io.intent.store.model.Placement.Rescheduled> lastMoves = store.lastMoves();
        Reschedule.Decision moves = Reschedule.decide(fleet.apps(), store.current(), fleet.health().sick(),
                lastMoves, Instant.now());
        moves.moves().forEach((slot, m) -> log.warn("moving sick instance of {} off {} ({})", slot.app(),
                slot.host(), m.reason()));
        PlanInput in = new PlanInput(new TreeMap<>(fleet.apps()), new TreeMap<>(fleet.hosts()), liveness.live(),
                graced, store.current(), fleet.health().healthy(store.current(), liveness::isLive), verdict.held(),
                fleet.missingSeconds(known, now), fleet.unreadable())
                .withMoves(moves.moves(), lastMoves);
        Plan plan = Planner.plan(in);
        return new PlanRound(plan, Changes.between(store.current(), store.placements(), plan), known, verdict, moves);
    }

    /** Asks the evacuation policy which dead hosts keep their instances. */
    private static Evacuation.Verdict evacuate(FleetView fleet, StoreView store, Evacuation evacuation,
                                               Set<String> known, Set<String> graced, long now) {
        HostLiveness liveness = fleet.liveness();
        Set<String> unreachable = new TreeSet<>(known);
        unreachable.removeAll(liveness.live());
        Set<String> movable = new TreeSet<>();
        store.current().forEach((slot, a) -> {
            PlanInput.App app = fleet.apps().get(slot.app());
            if (app == null || app.intent() == null || !app.intent().statefulOrDefault()) {
                movable.add(slot.host());
            }
        });
        Map<String, Long> dead = new TreeMap<>();
        for (String h : unreachable) {
            if (!graced.contains(h) && movable.contains(h) && fleet.hosts().containsKey(h)) {
                dead.put(h, liveness.missingSince(h));
            }
        }
        return evacuation.decide(fleet.counted(), unreachable, dead, now);
    }

    /** Reports disruption mode when it changes, and the verdict's figures. */
    private static void report(Evacuation.Verdict v, double threshold, DispatchMetrics metrics) {
        if (v.disruption() != metrics.disruption()) {
            if (v.disruption()) {
                log.warn("disruption mode: {} of {} hosts unreachable (threshold {} %): no instance moves off an"
                        + " unreachable host until more are back", v.unreachable(), v.counted(),
                        Math.round(threshold * 100));
            } else {
                log.info("disruption mode over: {} of {} hosts unreachable", v.unreachable(), v.counted());
            }
        }
        metrics.evacuation(v);
    }

    /**
     * How long (nanoseconds from now) until a plan is due even if nothing changes: a host's grace period ends, a
     * held host's turn comes or a sick instance's window is over; -1 when none is.
     */
    long nextTurn(HostLiveness liveness) {
        long wake = Math.min(liveness.nextDeath(known, System.nanoTime()), verdict.nextTurn());
        if (moves.nextTurn() != null) {
            long untilDue = Duration.between(Instant.now(), moves.nextTurn()).toNanos();
            wake = Math.min(wake, System.nanoTime() + Math.max(0, untilDue));
        }
        if (wake == Long.MAX_VALUE) {
            return -1;
        }
        return Math.max(0, wake - System.nanoTime()) + TimeUnit.MILLISECONDS.toNanos(1);
    }

    /** How many apps the plan left pending. */
    long pending() {
        return plan.placements().values().stream().filter(p -> p.pendingReason() != null).count();
    }
}
