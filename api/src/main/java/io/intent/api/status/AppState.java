package io.intent.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One app's desired state joined with what was observed: the worst state of its hosts, the dispatcher's
 * pending reason, and whether it has converged (every wanted instance OK and nothing left to remove).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AppState(String app, State state, String message, String active, int wanted, int ready,
                       long appRevision, String pendingReason, boolean converged, List<HostState> hosts) {
}
