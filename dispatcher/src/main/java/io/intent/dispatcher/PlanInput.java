package io.intent.dispatcher;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything the planner looks at, as plain values: the apps (valid or not), the host specs, which hosts are
 * live, which are missing but still within their grace period, and the assignments as they stand.
 *
 * @param apps    every app by name
 * @param hosts   every host with a usable spec, by name
 * @param live    hosts whose liveness key exists now: the only ones that receive new instances
 * @param graced  hosts whose liveness key is missing for less than the grace period: they keep what they
 *                run but receive nothing new
 * @param current the assignments in the store; a null value is an assignment that could not be decoded
 * @param healthy instances whose host is live and whose setlive status says they run, healthy, the revision
 *                assigned there: only these let an instance on a dead host go (replace before remove)
 * @param held    dead hosts whose instances stay where they are for now (disruption mode, rate limit), with
 *                the reason; every other dead host is evacuated
 * @param missing how many seconds each host whose live key is missing has been missing, for reasons
 * @param unreadable hosts whose spec exists but cannot be read or fails validation: their instances stay
 *                exactly where they are, and they get nothing new
 * @param moves   sick instances to move to another host now ({@link Reschedule}): their host is avoided for the
 *                app if another host fits
 * @param lastMoves each app's last move of a sick instance, carried into its placement
 */
public record PlanInput(SortedMap<String, App> apps, SortedMap<String, HostSpec> hosts, Set<String> live,
                        Set<String> graced, SortedMap<Slot, Assignment> current, Set<Slot> healthy,
                        SortedMap<String, String> held, SortedMap<String, Long> missing, Set<String> unreadable,
                        SortedMap<Slot, Reschedule.Move> moves,
                        SortedMap<String, io.intent.store.model.Placement.Rescheduled> lastMoves) {

    /**
     * One app as read from {@code /intent/apps/<name>}.
     *
     * @param intent   the decoded intent, null when the value did not decode
     * @param revision the key's mod revision, copied into assignments as {@code appRevision}
     * @param error    why the value did not decode, or null
     */
    public record App(String name, AppIntent intent, long revision, String error) {
        public static App valid(String name, AppIntent intent, long revision) {
            return new App(name, intent, revision, null);
        }

        public static App broken(String name, long revision, String error) {
            return new App(name, null, revision, error);
        }
    }

    public PlanInput {
        apps = Collections.unmodifiableSortedMap(new TreeMap<>(apps));
        hosts = Collections.unmodifiableSortedMap(new TreeMap<>(hosts));
        live = Collections.unmodifiableSet(new TreeSet<>(live));
        graced = Collections.unmodifiableSet(new TreeSet<>(graced));
        current = Collections.unmodifiableSortedMap(new TreeMap<>(current));
        healthy = Collections.unmodifiableSet(new TreeSet<>(healthy));
        held = Collections.unmodifiableSortedMap(new TreeMap<>(held));
        missing = Collections.unmodifiableSortedMap(new TreeMap<>(missing));
        unreadable = Collections.unmodifiableSet(new TreeSet<>(unreadable));
        moves = Collections.unmodifiableSortedMap(new TreeMap<>(moves == null ? Map.of() : moves));
        lastMoves = Collections.unmodifiableSortedMap(new TreeMap<>(lastMoves == null ? Map.of() : lastMoves));
    }

    /** An input without sick instances to move. */
    public PlanInput(SortedMap<String, App> apps, SortedMap<String, HostSpec> hosts, Set<String> live,
                     Set<String> graced, SortedMap<Slot, Assignment> current, Set<Slot> healthy,
                     SortedMap<String, String> held, SortedMap<String, Long> missing, Set<String> unreadable) {
        this(apps, hosts, live, graced, current, healthy, held, missing, unreadable, null, null);
    }

    /** An input without health, holds, missing times or unreadable hosts: the planner's basic view. */
    public PlanInput(SortedMap<String, App> apps, SortedMap<String, HostSpec> hosts, Set<String> live,
                     Set<String> graced, SortedMap<Slot, Assignment> current) {
        this(apps, hosts, live, graced, current, Set.of(), new TreeMap<>(), new TreeMap<>(), Set.of());
    }

    /** An input with the apps given as a collection, for tests and callers that hold a list. */
    public static PlanInput of(Collection<App> apps, Map<String, HostSpec> hosts, Set<String> live,
                               Set<String> graced, Map<Slot, Assignment> current) {
        SortedMap<String, App> byName = new TreeMap<>();
        apps.forEach(a -> byName.put(a.name(), a));
        return new PlanInput(byName, new TreeMap<>(hosts), live, graced, new TreeMap<>(current));
    }

    /** The same input with {@code next} as the current assignments: what the store holds after a plan is applied. */
    public PlanInput withCurrent(Map<Slot, Assignment> next) {
        return new PlanInput(apps, hosts, live, graced, new TreeMap<>(next), healthy, held, missing, unreadable,
                moves, lastMoves);
    }

    /** The same input with these instances reported healthy. */
    public PlanInput withHealthy(Set<Slot> slots) {
        return new PlanInput(apps, hosts, live, graced, current, slots, held, missing, unreadable, moves, lastMoves);
    }

    /** The same input with these dead hosts held (they keep their instances), each with its reason. */
    public PlanInput withHeld(Map<String, String> holds) {
        return new PlanInput(apps, hosts, live, graced, current, healthy, new TreeMap<>(holds), missing, unreadable,
                moves, lastMoves);
    }

    /** The same input with how long each missing host has been missing, in seconds. */
    public PlanInput withMissing(Map<String, Long> seconds) {
        return new PlanInput(apps, hosts, live, graced, current, healthy, held, new TreeMap<>(seconds), unreadable,
                moves, lastMoves);
    }

    /** The same input with these hosts' specs unreadable. */
    public PlanInput withUnreadable(Set<String> names) {
        return new PlanInput(apps, hosts, live, graced, current, healthy, held, missing, names, moves, lastMoves);
    }

    /** The same input with these sick instances to move, and these last moves per app. */
    public PlanInput withMoves(Map<Slot, Reschedule.Move> now,
                               Map<String, io.intent.store.model.Placement.Rescheduled> last) {
        return new PlanInput(apps, hosts, live, graced, current, healthy, held, missing, unreadable,
                new TreeMap<>(now), new TreeMap<>(last));
    }
}
