package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.TreeMap;

/**
 * A force redeploy, recorded in the intent so it is level-triggered: raising {@code generation} restarts every
 * instance, raising {@code hosts[h]} the one on host {@code h}, each through the normal rollout (slots, health
 * gate) without changing the version. {@code requestedAt} is informational.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RestartSpec(Long generation, Map<String, Long> hosts, String requestedAt) {
    public RestartSpec {
        hosts = hosts == null ? null : Map.copyOf(hosts);
    }

    /** The restart generation an instance on {@code host} must have been started with: 0 when never restarted. */
    public long generationFor(String host) {
        long g = generation == null ? 0 : generation;
        Long h = hosts == null ? null : hosts.get(host);
        // both only ever grow, so their sum changes whenever either does
        return g + (h == null ? 0 : h);
    }

    /** This spec with a restart of every instance ({@code host} null) or of the one on {@code host} added. */
    public RestartSpec next(String host, String at) {
        if (host == null) {
            return new RestartSpec((generation == null ? 0 : generation) + 1, hosts, at);
        }
        Map<String, Long> h = new TreeMap<>(hosts == null ? Map.of() : hosts);
        h.merge(host, 1L, Long::sum);
        return new RestartSpec(generation, h, at);
    }
}
