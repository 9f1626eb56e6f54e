package io.intent.iptables;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.PortSpec;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import java.util.List;
import java.util.Map;

/** Valid assignments for tests: only the ports vary. */
final class Intents {
    static final String SHA = "a".repeat(64);

    private Intents() {
    }

    static AppIntent app(PortSpec... ports) {
        return new AppIntent(Map.of("1.0", new VersionSpec("file:///srv/app-1.0.tar.gz", SHA, null, null)), "1.0",
                new RunSpec(List.of("bin/server"), Map.of(), null), List.of(ports), 1, null, null, null, null, null,
                null);
    }

    static Assignment assignment(String app, PortSpec... ports) {
        return new Assignment(app, "h1", 7, app(ports));
    }

    static PortSpec tcp(String name, int port, String... sources) {
        return new PortSpec(name, port, "tcp", List.of(sources));
    }

    static PortSpec udp(String name, int port, String... sources) {
        return new PortSpec(name, port, "udp", List.of(sources));
    }
}
