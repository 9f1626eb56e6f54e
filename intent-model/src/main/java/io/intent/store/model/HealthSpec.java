package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * How setlive decides an instance is healthy: an HTTP GET of {@code http} answering 2xx, or when
 * {@code http} is absent a TCP connect, on the named {@code port} (default: the first port).
 * {@code timeoutSeconds} bounds the wait after a start (default 30).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HealthSpec(String http, String port, Integer timeoutSeconds) {
    public int timeoutSecondsOrDefault() {
        return timeoutSeconds == null ? 30 : timeoutSeconds;
    }
}
