package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The dispatcher's answer for one app, at {@code /intent/placement/<app>}: the hosts it runs on, and, when
 * fewer than {@code scale} instances could be placed or the intent is invalid, the reason; for an app with a
 * {@code channel} block, a copy of it, so the placement says which channel the app follows or why it stopped;
 * and the last move of a sick instance.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Placement(List<String> hosts, int wanted, long appRevision, String pendingReason,
                        ChannelFollow channel, Rescheduled rescheduled) {
    /**
     * The last time the dispatcher moved a sick instance of the app: from which host to which, when, and why.
     * Kept in the placement (so it survives a leader change) until the next move replaces it. {@code leaving} is
     * true while the sick instance still runs on {@code from}: it stays there until its replacement runs healthy.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Rescheduled(String from, String to, java.time.Instant at, String reason, Boolean leaving) {
        /** A move whose sick instance has left its host. */
        public Rescheduled(String from, String to, java.time.Instant at, String reason) {
            this(from, to, at, reason, null);
        }

        public boolean leavingOrDefault() {
            return Boolean.TRUE.equals(leaving);
        }

        /** The same move, with the sick instance still on its host or gone from it. */
        public Rescheduled withLeaving(boolean stillThere) {
            return new Rescheduled(from, to, at, reason, stillThere ? Boolean.TRUE : null);
        }
    }

    public Placement {
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
    }

    /** A placement of an app that follows no channel and never had a sick instance moved. */
    public Placement(List<String> hosts, int wanted, long appRevision, String pendingReason) {
        this(hosts, wanted, appRevision, pendingReason, null, null);
    }

    public boolean complete() {
        return pendingReason == null && hosts.size() == wanted;
    }
}
