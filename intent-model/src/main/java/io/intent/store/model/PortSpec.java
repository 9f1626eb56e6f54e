package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A host port the app listens on. {@code sources} optionally limits who may connect (CIDRs); empty means anyone.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record PortSpec(String name, int port, String protocol, List<String> sources) {
    public PortSpec {
        sources = sources == null ? List.of() : List.copyOf(sources);
    }

    public PortSpec(String name, int port, String protocol) {
        this(name, port, protocol, List.of());
    }

    /** {@code tcp} unless the intent says {@code udp}. */
    public String protocolOrDefault() {
        return protocol == null ? "tcp" : protocol;
    }
}
