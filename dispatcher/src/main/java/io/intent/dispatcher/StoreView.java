package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Names;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Snapshot;
import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A term's view of what the store holds under {@code assign/} and {@code placement/}: read in pages at the start
 * of a term, on every resync and after a write whose outcome is unknown, and otherwise kept up to date with the
 * term's own writes (only the leader writes there). Confined to the dispatcher's thread.
 */
final class StoreView {
    private static final Logger log = LoggerFactory.getLogger(StoreView.class);
    private static final int PAGE = 2000;

    private final EtcdStore store;
    private final KeyLayout keys;
    private final TreeMap<Slot, Assignment> current = new TreeMap<>();
    private final Map<String, Placement> placements = new HashMap<>();

    StoreView(EtcdStore store) {
        this.store = store;
        this.keys = store.keys();
    }

    /** Reads both prefixes again; throws {@link io.intent.store.etcd.StoreException} and keeps nothing new then. */
    void read() {
        Snapshot<Assignment> assigned = store.listPaged(keys.assignPrefix(), Assignment.class, PAGE);
        Snapshot<Placement> placed = store.listPaged(keys.placementPrefix(), Placement.class, PAGE);
        current.clear();
        for (Entry<Assignment> e : assigned.entries()) {
            Slot s = slot(e.key());
            if (s == null) {
                log.warn("ignoring {}: not of the form {}<host>/<app>", e.key(), keys.assignPrefix());
            } else {
                if (!e.valid()) {
                    log.warn("assignment {} does not decode ({}); it will be rewritten or removed", e.key(),
                            e.error());
                }
                current.put(s, e.value());
            }
        }
        placements.clear();
        for (Entry<Placement> e : placed.entries()) {
            String app = KeyLayout.childName(keys.placementPrefix(), e.key());
            if (app != null && Names.valid(app)) {
                // an undecodable placement is simply rewritten: null never equals a plan's placement
                placements.put(app, e.value());
            }
        }
    }

    private Slot slot(String key) {
        String[] hostAndApp = KeyLayout.hostAndApp(keys.assignPrefix(), key);
        return hostAndApp == null ? null : new Slot(hostAndApp[0], hostAndApp[1]);
    }

    /** Takes a plan's changes, once written, as the store's state. */
    void take(Changes changes) {
        current.putAll(changes.assignmentPuts());
        changes.assignmentDeletes().forEach(current::remove);
        placements.putAll(changes.placementPuts());
        changes.placementDeletes().forEach(placements::remove);
    }

    TreeMap<Slot, Assignment> current() {
        return current;
    }

    Map<String, Placement> placements() {
        return placements;
    }

    Set<String> hostsWithInstances() {
        Set<String> out = new TreeSet<>();
        current.keySet().forEach(s -> out.add(s.host()));
        return out;
    }

    /** Each app's last move of a sick instance, as recorded in its placement. */
    Map<String, Placement.Rescheduled> lastMoves() {
        Map<String, Placement.Rescheduled> out = new TreeMap<>();
        placements.forEach((app, p) -> {
            if (p != null && p.rescheduled() != null) {
                out.put(app, p.rescheduled());
            }
        });
        return out;
    }
}
