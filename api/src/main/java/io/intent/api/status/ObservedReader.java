package io.intent.api.status;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Placement;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** Reads the snapshot the status model needs: six prefix lists, all at the revision of the first. Blocking. */
public final class ObservedReader {
    private final EtcdStore store;

    public ObservedReader(EtcdStore store) {
        this.store = store;
    }

    public Observed read() {
        KeyLayout k = store.keys();
        var apps = store.list(k.appsPrefix(), AppIntent.class);
        long rev = apps.revision();
        Map<String, Entry<HostSpec>> hosts = byName(k.hostsPrefix(), store.list(k.hostsPrefix(), HostSpec.class, rev)
                .entries());
        Map<String, Entry<Liveness>> live = byName(k.livePrefix(), store.list(k.livePrefix(), Liveness.class, rev)
                .entries());
        Map<String, Entry<Placement>> placements = byName(k.placementPrefix(),
                store.list(k.placementPrefix(), Placement.class, rev).entries());
        Map<String, Map<String, Entry<Assignment>>> assignments = new TreeMap<>();
        for (var e : store.list(k.assignPrefix(), Assignment.class, rev).entries()) {
            String[] p = rest(k.assignPrefix(), e.key());
            if (p.length == 2) {
                assignments.computeIfAbsent(p[0], x -> new TreeMap<>()).put(p[1], e);
            }
        }
        Map<String, Map<String, Map<String, Entry<AgentStatus>>>> statuses = new HashMap<>();
        for (var e : store.list(k.statusPrefix(), AgentStatus.class, rev).entries()) {
            String[] p = rest(k.statusPrefix(), e.key());
            if (p.length == 3) {
                statuses.computeIfAbsent(p[0], x -> new HashMap<>()).computeIfAbsent(p[1], x -> new TreeMap<>())
                        .put(p[2], e);
            }
        }
        return new Observed(rev, byName(k.appsPrefix(), apps.entries()), hosts, live, placements, assignments,
                statuses);
    }

    private static <T> Map<String, Entry<T>> byName(String prefix, Iterable<Entry<T>> entries) {
        Map<String, Entry<T>> m = new TreeMap<>();
        for (Entry<T> e : entries) {
            String name = KeyLayout.childName(prefix, e.key());
            if (name != null) {
                m.put(name, e);
            }
        }
        return m;
    }

    private static String[] rest(String prefix, String key) {
        return key.substring(prefix.length()).split("/", -1);
    }
}
