package io.intent.store.model;

import java.util.Map;

/**
 * Where an app may run. {@code labels} are hard: a host must carry every one. {@code prefer} are soft: each
 * matching label adds to a host's score and never makes a host ineligible.
 */
public record Constraints(Map<String, String> labels, Map<String, String> prefer) {
    public static final Constraints NONE = new Constraints(Map.of(), Map.of());

    public Constraints {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        prefer = prefer == null ? Map.of() : Map.copyOf(prefer);
    }
}
