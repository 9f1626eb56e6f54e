package io.intent.dispatcher;

import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.store.model.PortSpec;
import io.intent.store.model.Resources;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** A host's spec (null when unreadable), state and what the plan has put on it so far. */
final class HostLoad {
    final String name;
    final HostSpec spec;
    final boolean live;
    final boolean graced;
    /** Why this dead host keeps its instances for now, or null. */
    final String held;
    double cpu;
    long memoryMb;
    int count;
    /** The higher of cpu and memory used, as a fraction of capacity; 0 for a host without a capacity. */
    double load;
    final Map<String, String> ports = new HashMap<>();

    HostLoad(String name, HostSpec spec, boolean live, boolean graced, String held) {
        this.name = name;
        this.spec = spec;
        this.live = live;
        this.graced = graced;
        this.held = held;
    }

    boolean draining() {
        return spec != null && spec.drainOrDefault();
    }

    boolean hasLabels(AppIntent intent) {
        if (spec == null) {
            return true;
        }
        for (var e : intent.constraintsOrDefault().labels().entrySet()) {
            if (!e.getValue().equals(spec.labels().get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    int preferMatches(AppIntent intent) {
        int n = 0;
        if (spec == null) {
            return 0;
        }
        for (var e : intent.constraintsOrDefault().prefer().entrySet()) {
            if (e.getValue().equals(spec.labels().get(e.getKey()))) {
                n++;
            }
        }
        return n;
    }

    boolean fits(AppIntent intent) {
        Resources cap = spec == null ? null : spec.capacity();
        if (cap == null) {
            return true;
        }
        Resources r = intent.resourcesOrDefault();
        // a tiny epsilon so that 0.1 + 0.2 cores fit in 0.3
        return cpu + r.cpu() <= cap.cpu() + 1e-9 && memoryMb + r.memoryMb() <= cap.memoryMb();
    }

    /** The first of the app's ports that another app already holds here, as {@code tcp/8080}, or null. */
    String portTakenBy(String app, AppIntent intent) {
        for (PortSpec p : intent.ports()) {
            String holder = ports.get(key(p));
            if (holder != null && !holder.equals(app)) {
                return key(p);
            }
        }
        return null;
    }

    void add(String app, AppIntent intent) {
        Resources r = intent.resourcesOrDefault();
        cpu += r.cpu();
        memoryMb += r.memoryMb();
        count++;
        load = computeLoad();
        for (PortSpec p : intent.ports()) {
            if (p != null) {
                ports.putIfAbsent(key(p), app);
            }
        }
    }

    private double computeLoad() {
        Resources cap = spec == null ? null : spec.capacity();
        if (cap == null) {
            return 0;
        }
        return Math.max(fraction(cpu, cap.cpu()), fraction(memoryMb, cap.memoryMb()));
    }

    private static double fraction(double used, double capacity) {
        if (capacity <= 0) {
            return used > 0 ? 1 : 0;
        }
        return used / capacity;
    }

    private static String key(PortSpec p) {
        return p.protocolOrDefault() + "/" + p.port();
    }

    /** Why this host cannot take a new instance of the app, or null when it can. */
    String rejection(String app, AppIntent intent, Set<String> on) {
        if (on.contains(name)) {
            return "already run it";
        }
        if (spec == null) {
            return "have an unreadable spec";
        }
        if (draining()) {
            return "are draining";
        }
        if (!live) {
            return "are not live";
        }
        if (!hasLabels(intent)) {
            return "lack labels " + labels(intent.constraintsOrDefault().labels());
        }
        if (!fits(intent)) {
            Resources r = intent.resourcesOrDefault();
            return "lack room for cpu " + r.cpu() + ", memory " + r.memoryMb() + " MB";
        }
        String port = portTakenBy(app, intent);
        if (port != null) {
            return "have port " + port + " taken by another app";
        }
        return null;
    }

    private static String labels(Map<String, String> labels) {
        return new TreeMap<>(labels).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }
}
