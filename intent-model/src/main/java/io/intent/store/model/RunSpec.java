package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * How to start the app: the command (relative paths resolve inside the install), extra environment and
 * working directory (relative to the install; defaults to the install itself).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunSpec(List<String> command, Map<String, String> env, String workdir) {
    public RunSpec {
        command = command == null ? List.of() : List.copyOf(command);
        env = env == null ? Map.of() : Map.copyOf(env);
    }
}
