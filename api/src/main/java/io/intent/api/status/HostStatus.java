package io.intent.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The per-host view: whether the host is live and drained, and the state of every app it runs or should. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostStatus(String host, State state, boolean live, boolean drain, boolean registered, String address,
                         List<HostState> apps) {
}
