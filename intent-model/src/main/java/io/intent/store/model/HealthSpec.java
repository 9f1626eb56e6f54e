package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * How setlive decides an instance is healthy: an HTTP GET of {@code http} answering 2xx, or when
 * {@code http} is absent a TCP connect, on the named {@code port} (default: the first port).
 * {@code timeoutSeconds} bounds the wait after a start (default 30); a running instance is probed every
 * {@code intervalSeconds} (default 10) and restarted after {@code failureThreshold} (default 3) failed
 * probes in a row.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HealthSpec(String http, String port, Integer timeoutSeconds, Integer intervalSeconds,
                         Integer failureThreshold) {
    public static final int DEFAULT_INTERVAL_SECONDS = 10;
    public static final int DEFAULT_FAILURE_THRESHOLD = 3;

    /** A health check with the default liveness interval and threshold. */
    public HealthSpec(String http, String port, Integer timeoutSeconds) {
        this(http, port, timeoutSeconds, null, null);
    }

    public int timeoutSecondsOrDefault() {
        return timeoutSeconds == null ? 30 : timeoutSeconds;
    }

    public int intervalSecondsOrDefault() {
        return intervalSeconds == null ? DEFAULT_INTERVAL_SECONDS : intervalSeconds;
    }

    public int failureThresholdOrDefault() {
        return failureThreshold == null ? DEFAULT_FAILURE_THRESHOLD : failureThreshold;
    }
}
