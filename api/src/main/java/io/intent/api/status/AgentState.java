package io.intent.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.intent.store.model.Phase;
import java.time.Instant;
import java.util.Map;

/** One agent's report for one app on one host, judged against the assignment it should be about. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentState(String agent, State state, Phase phase, String version, long observedRevision,
                         String message, int attempts, Instant since, Map<String, Object> details) {
}
