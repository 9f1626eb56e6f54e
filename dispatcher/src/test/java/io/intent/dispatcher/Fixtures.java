package io.intent.dispatcher;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Constraints;
import io.intent.store.model.HostSpec;
import io.intent.store.model.PortSpec;
import io.intent.store.model.Resources;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import java.util.List;
import java.util.Map;

/** Small valid intents and hosts for planner and dispatcher tests. */
final class Fixtures {
    static final String SHA = "a".repeat(64);

    private Fixtures() {
    }

    static AppIntent app(int scale) {
        return new AppIntent(Map.of("1.0", new VersionSpec("file:///srv/app-1.0.tar.gz", SHA, null, null)), "1.0",
                new RunSpec(List.of("bin/server"), Map.of(), null), List.of(), scale, null, null, null, null, null,
                null);
    }

    static AppIntent app(int scale, double cpu, long mem) {
        return withResources(app(scale), new Resources(cpu, mem));
    }

    static AppIntent withResources(AppIntent a, Resources r) {
        return new AppIntent(a.versions(), a.active(), a.run(), a.ports(), a.scale(), r, a.constraints(), a.health(),
                a.runtime(), a.stateful(), a.maxUnavailable());
    }

    static AppIntent withPorts(AppIntent a, int... ports) {
        List<PortSpec> ps = new java.util.ArrayList<>();
        for (int i = 0; i < ports.length; i++) {
            ps.add(new PortSpec("p" + i, ports[i], "tcp"));
        }
        return new AppIntent(a.versions(), a.active(), a.run(), ps, a.scale(), a.resources(), a.constraints(),
                a.health(), a.runtime(), a.stateful(), a.maxUnavailable());
    }

    static AppIntent withLabels(AppIntent a, Map<String, String> labels, Map<String, String> prefer) {
        return new AppIntent(a.versions(), a.active(), a.run(), a.ports(), a.scale(), a.resources(),
                new Constraints(labels, prefer), a.health(), a.runtime(), a.stateful(), a.maxUnavailable());
    }

    static AppIntent stateful(AppIntent a) {
        return new AppIntent(a.versions(), a.active(), a.run(), a.ports(), a.scale(), a.resources(), a.constraints(),
                a.health(), a.runtime(), true, a.maxUnavailable());
    }

    static HostSpec host() {
        return new HostSpec(Map.of(), new Resources(4, 4096), "10.0.0.1", false);
    }

    static HostSpec host(Map<String, String> labels) {
        return new HostSpec(labels, new Resources(4, 4096), "10.0.0.1", false);
    }

    static HostSpec host(double cpu, long mem) {
        return new HostSpec(Map.of(), new Resources(cpu, mem), "10.0.0.1", false);
    }
}
