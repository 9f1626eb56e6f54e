package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** One line of an instance's state from setlive's status details: pid, start, restarts, last exit, health. */
final class InstanceLine {
    private InstanceLine() {
    }

    /** The line, or null when setlive reported no instance state. */
    static String of(JsonNode details) {
        if (details == null || !details.isObject() || details.isEmpty()) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        add(parts, details, "pid", "pid");
        add(parts, details, "containerId", "container");
        add(parts, details, "startedAt", "started");
        add(parts, details, "restarts", "restarts");
        add(parts, details, "livenessRestarts", "liveness restarts");
        add(parts, details, "lastExitCode", "last exit");
        add(parts, details, "lastSignal", "signal");
        if (details.path("oomKilled").asBoolean(false)) {
            parts.add("OOM-killed");
        }
        add(parts, details, "health", "health");
        add(parts, details, "recentFailures", "recent failures");
        if (details.path("sick").asBoolean(false)) {
            parts.add("SICK");
        }
        return parts.isEmpty() ? null : String.join(", ", parts);
    }

    private static void add(List<String> parts, JsonNode d, String field, String label) {
        if (d.hasNonNull(field)) {
            parts.add(label + " " + d.path(field).asText());
        }
    }
}
