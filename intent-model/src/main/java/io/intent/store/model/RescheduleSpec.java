package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * When an instance counts as sick and may be moved: {@code afterFailures} failures (process exits, liveness
 * restarts, failed switches) within {@code windowSeconds} on one host (defaults 5 in 600 s). The dispatcher
 * moves at most one instance of an app per window, and never a {@code stateful} app's; {@code enabled: false}
 * turns moving off (sickness is still reported).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RescheduleSpec(Integer afterFailures, Integer windowSeconds, Boolean enabled) {
    public static final RescheduleSpec DEFAULT = new RescheduleSpec(null, null, null);

    public int afterFailuresOrDefault() {
        return afterFailures == null ? 5 : afterFailures;
    }

    public int windowSecondsOrDefault() {
        return windowSeconds == null ? 600 : windowSeconds;
    }

    public boolean enabledOrDefault() {
        return enabled == null || enabled;
    }
}
