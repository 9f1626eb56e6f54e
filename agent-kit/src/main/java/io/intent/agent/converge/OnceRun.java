package io.intent.agent.converge;

import io.intent.agent.converge.Converger.Outcome;
import io.intent.agent.converge.Converger.Step;
import io.intent.store.model.Phase;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The loop of the one-shot mode ({@link Converger#runOnce}): runs each unit (a name, or the whole slice) when it is
 * due, until every name it reports is READY or removed, has failed {@code giveUpAfter} times in a row, or the
 * deadline passes. No resync will come, so a name not done is looked at again within half a second.
 */
final class OnceRun {
    private static final long LOOK_AGAIN = Duration.ofMillis(500).toNanos();

    private final String agent;
    private final Function<String, Step> runUnit;
    private final Function<String, Set<String>> namesOf;
    /** When each unit not yet done is due next (System.nanoTime); a local event moves it (the kit's requeue). */
    private final Map<String, Long> due;
    private final Map<String, Outcome> outcomes = new TreeMap<>();
    private final Map<String, Integer> failuresInRow = new HashMap<>();
    private final Set<String> givenUp = new HashSet<>();

    OnceRun(String agent, Function<String, Step> runUnit, Function<String, Set<String>> namesOf,
            Map<String, Long> due) {
        this.agent = agent;
        this.runUnit = runUnit;
        this.namesOf = namesOf;
        this.due = due;
    }

    List<Outcome> run(BooleanSupplier running, long deadline, int giveUpAfter) throws InterruptedException {
        while (!due.isEmpty() && running.getAsBoolean() && System.nanoTime() < deadline) {
            var next = due.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow();
            long wait = next.getValue() - System.nanoTime();
            if (next.getValue() >= deadline) {
                break;
            }
            if (wait > 0) {
                // a local event (a download done) moves a name's time forward: look again within 50 ms
                Thread.sleep(Math.min(50, Math.max(1, wait / 1_000_000)));
                continue;
            }
            String unit = next.getKey();
            Step step = runUnit.apply(unit);
            if (step.results().isEmpty() && step.next() == null) {
                due.remove(unit);
                if (namesOf.apply(unit).equals(Set.of(unit))) {
                    // a name the kit would not reconcile; the whole slice's key is no name (an empty slice)
                    outcomes.put(unit, new Outcome(agent, unit, null, "ignored: not a valid name", true));
                }
                continue;
            }
            if (!record(step, giveUpAfter) && !step.results().isEmpty()) {
                due.remove(unit);
                continue;
            }
            Duration again = step.next() == null ? Duration.ofMillis(500) : step.next();
            long in = step.failed() ? again.toNanos() : Math.min(again.toNanos(), LOOK_AGAIN);
            due.put(unit, System.nanoTime() + in);
        }
        for (String unit : due.keySet()) {
            for (String name : namesOf.apply(unit)) {
                Outcome o = outcomes.get(name);
                if (o != null && (o.converged() || givenUp.contains(name))) {
                    continue;
                }
                outcomes.put(name, new Outcome(agent, name, o == null ? null : o.phase(),
                        (o == null || o.message() == null ? "not reconciled" : o.message())
                                + "; not converged within the deadline", false));
            }
        }
        return List.copyOf(outcomes.values());
    }

    /** Notes how each name of a step ended; true while one of them is worth another look. */
    private boolean record(Step step, int giveUpAfter) {
        boolean pending = false;
        for (var e : step.results().entrySet()) {
            String name = e.getKey();
            Result r = e.getValue();
            if (r.removal() || r.phase() == Phase.READY) {
                outcomes.put(name, new Outcome(agent, name, r.phase(), r.removal() ? "removed" : r.message(), true));
                givenUp.remove(name);
                continue;
            }
            Outcome last = outcomes.get(name);
            if (r.phase() == Phase.FAILED || last == null || last.phase() != Phase.FAILED) {
                // a retry under way after a failure (PROGRESSING) does not hide the failure from the summary
                outcomes.put(name, new Outcome(agent, name, r.phase(), r.message(), false));
            }
            // counted until the name converges: a retry in progress between two failures does not reset it
            if (r.phase() == Phase.FAILED && failuresInRow.merge(name, 1, Integer::sum) >= giveUpAfter) {
                givenUp.add(name);
                continue;
            }
            // a name given up on stays so (in the whole-slice mode the other names may still run the slice)
            pending |= !givenUp.contains(name);
        }
        return pending;
    }
}
