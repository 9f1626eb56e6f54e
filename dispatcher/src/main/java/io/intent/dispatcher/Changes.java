package io.intent.dispatcher;

import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The writes that turn the store's current assignments and placements into a plan's: only what differs, so a
 * converged store gets no writes at all. A pure function; the {@link PlanWriter} turns it into fenced
 * transactions.
 *
 * @param assignmentPuts    slots to create or rewrite (new instance, or the intent or its revision changed)
 * @param assignmentDeletes slots to remove
 * @param placementPuts     placements to create or rewrite
 * @param placementDeletes  placements of apps that no longer exist
 */
public record Changes(SortedMap<Slot, Assignment> assignmentPuts, List<Slot> assignmentDeletes,
                      SortedMap<String, Placement> placementPuts, List<String> placementDeletes) {

    public Changes {
        assignmentPuts = new TreeMap<>(assignmentPuts);
        assignmentDeletes = List.copyOf(assignmentDeletes);
        placementPuts = new TreeMap<>(placementPuts);
        placementDeletes = List.copyOf(placementDeletes);
    }

    public static Changes between(Map<Slot, Assignment> current, Map<String, Placement> currentPlacements,
                                  Plan plan) {
        SortedMap<Slot, Assignment> puts = new TreeMap<>();
        List<Slot> deletes = new ArrayList<>();
        for (var e : plan.assignments().entrySet()) {
            // a null value asks to leave the stored (undecodable) value of a frozen app alone
            if (e.getValue() != null && !Objects.equals(current.get(e.getKey()), e.getValue())) {
                puts.put(e.getKey(), e.getValue());
            }
        }
        new TreeMap<>(current).keySet().forEach(s -> {
            if (!plan.assignments().containsKey(s)) {
                deletes.add(s);
            }
        });
        SortedMap<String, Placement> placementPuts = new TreeMap<>();
        List<String> placementDeletes = new ArrayList<>();
        plan.placements().forEach((app, p) -> {
            if (!p.equals(currentPlacements.get(app))) {
                placementPuts.put(app, p);
            }
        });
        new TreeMap<>(currentPlacements).keySet().forEach(app -> {
            if (!plan.placements().containsKey(app)) {
                placementDeletes.add(app);
            }
        });
        return new Changes(puts, deletes, placementPuts, placementDeletes);
    }

    public boolean isEmpty() {
        return size() == 0;
    }

    /** The number of writes. */
    public int size() {
        return assignmentPuts.size() + assignmentDeletes.size() + placementPuts.size() + placementDeletes.size();
    }
}
