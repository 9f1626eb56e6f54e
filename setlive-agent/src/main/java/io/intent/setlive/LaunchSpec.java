package io.intent.setlive;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.PortSpec;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything that decides how one app instance runs on this host: the version, where its install is, the
 * command, the environment the app gets (the intent's plus its identity), its ports and, for Docker, the image.
 * Two equal specs mean the same process; a changed spec means a restart. Built by a pure function of the
 * assignment, so it is stored next to the running instance and compared on every reconcile.
 *
 * @param installDir absolute path of the complete install the version runs from
 * @param imageId    for Docker, the local image id the install marker names; null for runit
 * @param restartGeneration the intent's force-restart generation for this host; null while it is 0, so specs
 *                   of apps never force-restarted render (and hash) exactly as before the field existed
 */
public record LaunchSpec(String app, String host, String version, String runtime, String hostAddress,
                         String installDir, List<String> command, Map<String, String> env, String workdir,
                         List<PortSpec> ports, String imageId,
                         @JsonInclude(JsonInclude.Include.NON_NULL) Long restartGeneration) {

    /** A spec never force-restarted. */
    public LaunchSpec(String app, String host, String version, String runtime, String hostAddress,
                      String installDir, List<String> command, Map<String, String> env, String workdir,
                      List<PortSpec> ports, String imageId) {
        this(app, host, version, runtime, hostAddress, installDir, command, env, workdir, ports, imageId, null);
    }

    public LaunchSpec {
        command = command == null ? List.of() : List.copyOf(command);
        // sorted, so the spec renders (and hashes) the same in every JVM
        env = env == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(env));
        ports = ports == null ? List.of() : List.copyOf(ports);
    }

    /** The spec for the assignment's active version on this host. */
    public static LaunchSpec of(Assignment a, String host, String hostAddress, String runtime, String installDir,
                                String imageId) {
        AppIntent intent = a.intent();
        var run = intent.run();
        return new LaunchSpec(a.app(), host, intent.active(), runtime, hostAddress, installDir,
                run == null ? List.of() : run.command(), run == null ? Map.of() : run.env(),
                run == null ? null : run.workdir(), intent.ports(), imageId,
                intent.restartGenerationFor(host) == 0 ? null : intent.restartGenerationFor(host));
    }

    /**
     * The whole environment of the app: the intent's variables, then its identity ({@code INTENT_APP},
     * {@code INTENT_VERSION}, {@code INTENT_HOST}, {@code INTENT_HOST_ADDR}, {@code INTENT_BIND_ADDR},
     * {@code INTENT_PORT_<NAME>}), which validation keeps the intent from overriding.
     *
     * @param bindAddress where the app should listen: the host address under runit, 0.0.0.0 inside a container
     */
    public Map<String, String> environment(String bindAddress) {
        Map<String, String> out = new TreeMap<>(env);
        out.put("INTENT_APP", app);
        out.put("INTENT_VERSION", version);
        out.put("INTENT_HOST", host);
        out.put("INTENT_HOST_ADDR", hostAddress);
        out.put("INTENT_BIND_ADDR", bindAddress);
        for (PortSpec p : ports) {
            out.put(portVariable(p.name()), Integer.toString(p.port()));
        }
        return out;
    }

    /** {@code INTENT_PORT_<NAME>}: the port's name upper-cased, '-' turned into '_'. */
    public static String portVariable(String portName) {
        return "INTENT_PORT_" + portName.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** Ports by name, as published in the endpoint. */
    public Map<String, Integer> portsByName() {
        Map<String, Integer> out = new TreeMap<>();
        ports.forEach(p -> out.put(p.name(), p.port()));
        return out;
    }
}
