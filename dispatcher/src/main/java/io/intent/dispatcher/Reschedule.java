package io.intent.dispatcher;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Decides which sick instances the dispatcher moves to another host: a pure function. An instance is sick when
 * its setlive status says so (more failures within the app's {@code reschedule.windowSeconds} than
 * {@code reschedule.afterFailures}). A sick instance of an app is moved when the app is valid, not
 * {@code stateful}, has {@code reschedule.enabled} (the default), and moved none within its window (the last
 * move is kept in the app's {@link Placement#rescheduled()}); at most one instance per app at a time, the
 * first by host name. Whether another host fits is the {@link Planner}'s to find out.
 */
public final class Reschedule {
    private Reschedule() {
    }

    /**
     * A sick instance to move off its host.
     *
     * @param reason what setlive reported, for the placement
     * @param at     when the dispatcher decided it (the window counts from here)
     */
    public record Move(String reason, Instant at) {
    }

    /**
     * The moves to make now, and when the next one may become due (a sick instance held back by its app's
     * window), or null.
     */
    public record Decision(SortedMap<Slot, Move> moves, Instant nextTurn) {
        public Decision {
            moves = new TreeMap<>(moves);
        }
    }

    public static Decision decide(Map<String, PlanInput.App> apps, Map<Slot, Assignment> current,
                                  Map<Slot, String> sick, Map<String, Placement.Rescheduled> lastMoves,
                                  Instant now) {
        SortedMap<Slot, Move> moves = new TreeMap<>();
        Instant next = null;
        for (var e : new TreeMap<>(sick).entrySet()) {
            Slot slot = e.getKey();
            PlanInput.App app = apps.get(slot.app());
            AppIntent intent = app == null ? null : app.intent();
            if (intent == null || !current.containsKey(slot) || intent.statefulOrDefault()
                    || !intent.rescheduleOrDefault().enabledOrDefault()
                    || moves.keySet().stream().anyMatch(s -> s.app().equals(slot.app()))) {
                continue;
            }
            Placement.Rescheduled last = lastMoves.get(slot.app());
            Duration window = Duration.ofSeconds(intent.rescheduleOrDefault().windowSecondsOrDefault());
            if (last != null && last.at() != null && now.isBefore(last.at().plus(window))) {
                Instant due = last.at().plus(window);
                next = next == null || due.isBefore(next) ? due : next;
                continue;
            }
            moves.put(slot, new Move(e.getValue(), now));
        }
        return new Decision(moves, next);
    }
}
