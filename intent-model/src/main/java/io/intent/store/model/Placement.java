package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The dispatcher's answer for one app, at {@code /intent/placement/<app>}: the hosts it runs on, and, when
 * fewer than {@code scale} instances could be placed or the intent is invalid, the reason.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Placement(List<String> hosts, int wanted, long appRevision, String pendingReason) {
    public Placement {
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
    }

    public boolean complete() {
        return pendingReason == null && hosts.size() == wanted;
    }
}
