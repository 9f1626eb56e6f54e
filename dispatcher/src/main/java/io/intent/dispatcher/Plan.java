package io.intent.dispatcher;

import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The planner's answer: the assignments the store should hold, and for every app where it runs or why it
 * cannot (fully) run.
 *
 * @param assignments every slot that should exist with its value; a null value (only for an app whose intent
 *                    is invalid, whose stored assignment did not decode either) means "leave the stored value alone"
 * @param placements  one placement per app, by app name
 */
public record Plan(SortedMap<Slot, Assignment> assignments, SortedMap<String, Placement> placements) {
    public Plan {
        assignments = Collections.unmodifiableSortedMap(new TreeMap<>(assignments));
        placements = Collections.unmodifiableSortedMap(new TreeMap<>(placements));
    }
}
