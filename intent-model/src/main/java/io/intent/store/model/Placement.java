package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The dispatcher's answer for one app, at {@code /intent/placement/<app>}: the hosts it runs on, and, when
 * fewer than {@code scale} instances could be placed or the intent is invalid, the reason; for an app with a
 * {@code channel} block, a copy of it, so the placement says which channel the app follows or why it stopped.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Placement(List<String> hosts, int wanted, long appRevision, String pendingReason,
                        ChannelFollow channel) {
    /** A placement of an app that follows no channel. */
    public Placement(List<String> hosts, int wanted, long appRevision, String pendingReason) {
        this(hosts, wanted, appRevision, pendingReason, null);
    }

    public Placement {
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
    }

    public boolean complete() {
        return pendingReason == null && hosts.size() == wanted;
    }
}
