package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The dispatcher's answer for one app, at {@code /intent/placement/<app>}: the hosts it runs on, and, when
 * fewer than {@code scale} instances could be placed or the intent is invalid, the reason.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Placement(List<String> hosts, int wanted, long appRevision, String pendingReason,
                        Rescheduled rescheduled) {
    /**
     * The last time the dispatcher moved a sick instance of the app: from which host to which, when, and why.
     * Kept in the placement (so it survives a leader change) until the next move replaces it.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Rescheduled(String from, String to, java.time.Instant at, String reason) {
    }

    public Placement {
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
    }

    /** A placement that has never moved a sick instance. */
    public Placement(List<String> hosts, int wanted, long appRevision, String pendingReason) {
        this(hosts, wanted, appRevision, pendingReason, null);
    }

    public boolean complete() {
        return pendingReason == null && hosts.size() == wanted;
    }
}
