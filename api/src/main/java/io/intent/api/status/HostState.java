package io.intent.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One app on one host: whether the dispatcher placed it there, the assignment revision the host got, and the
 * worst of its agents' states.
 *
 * @param placed   true when the current placement lists this host; false for a host the app is leaving
 * @param version  the version the host reports running (setlive's, else any agent's), null when unknown
 * @param progress the details of the agent still working (bytes fetched, ...), when one is
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostState(String app, String host, State state, String message, boolean live, boolean placed,
                        long assignedRevision, String version, Map<String, Object> progress,
                        List<AgentState> agents) {
}
