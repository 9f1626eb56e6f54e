package io.intent.store.model;

import java.time.Instant;
import java.util.Map;

/** A live, healthy instance, published by setlive at {@code /intent/endpoints/<host>/<app>}. */
public record Endpoint(String app, String host, String address, String version, Map<String, Integer> ports,
                       Instant since) {
    public Endpoint {
        ports = ports == null ? Map.of() : Map.copyOf(ports);
    }
}
