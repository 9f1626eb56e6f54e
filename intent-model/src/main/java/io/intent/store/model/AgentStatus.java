package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What one agent reports for one app on its host, at {@code /intent/status/<host>/<app>/<agent>}.
 *
 * @param observedRevision the assignment's {@code appRevision} this status is about
 * @param attempts         consecutive failed attempts (0 when not failing)
 * @param since            when the phase last changed
 * @param nextRetry        when a failing agent tries again, if it will
 * @param details          agent-specific figures (bytes done, rule count, prepared versions, pid)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentStatus(
        String agent,
        Phase phase,
        String version,
        long observedRevision,
        String message,
        int attempts,
        Instant since,
        Instant nextRetry,
        Map<String, Object> details) {

    public AgentStatus {
        details = details == null ? Map.of() : Map.copyOf(details);
    }

    /** Same content, ignoring the timestamps: a status write is needed only when this differs. */
    public boolean sameAs(AgentStatus other) {
        return other != null
                && Objects.equals(agent, other.agent)
                && phase == other.phase
                && Objects.equals(version, other.version)
                && observedRevision == other.observedRevision
                && Objects.equals(message, other.message)
                && attempts == other.attempts
                && Objects.equals(details, other.details);
    }

    public AgentStatus withSince(Instant newSince) {
        return new AgentStatus(agent, phase, version, observedRevision, message, attempts, newSince, nextRetry,
                details);
    }

}
