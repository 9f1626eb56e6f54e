package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * A host as the dispatcher sees it: its labels, what it can hold, the address its apps bind to, and whether
 * it is being drained (no new instances; existing ones move away).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostSpec(Map<String, String> labels, Resources capacity, String address, Boolean drain) {
    public HostSpec {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public boolean drainOrDefault() {
        return drain != null && drain;
    }

    public Resources capacityOrDefault() {
        return capacity == null ? Resources.NONE : capacity;
    }

    public HostSpec withDrain(boolean newDrain) {
        return new HostSpec(labels, capacity, address, newDrain);
    }
}
