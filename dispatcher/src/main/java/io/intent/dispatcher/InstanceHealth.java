package io.intent.dispatcher;

import io.intent.store.codec.Names;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/** What setlive's statuses say about each instance: live and healthy for which app revision, or sick. */
final class InstanceHealth {
    /** What one batch of status changes changed. */
    record Changed(boolean ready, boolean sick) {
    }

    private final String statusPrefix;
    /** Per instance, the app revision setlive last reported live and healthy (status READY) for. */
    private final Map<Slot, Long> readyAt = new HashMap<>();
    /** Instances setlive reports sick (too many failures within the app's window), with what it said. */
    private final Map<Slot, String> sick = new TreeMap<>();

    InstanceHealth(String statusPrefix) {
        this.statusPrefix = statusPrefix;
    }

    /** Takes in changes under {@code status/}; only setlive's keys ({@code <host>/<app>/setlive}) count. */
    Changed apply(List<SliceWatch.Change<AgentStatus>> changes) {
        boolean ready = false;
        boolean sickChanged = false;
        for (var c : changes) {
            Slot slot = setliveSlot(statusPrefix, c.key());
            if (slot == null) {
                continue;
            }
            AgentStatus st = c.kind() == SliceWatch.Kind.DELETE || !c.entry().valid() ? null : c.entry().value();
            Long before = st != null && st.phase() == Phase.READY ? readyAt.put(slot, st.observedRevision())
                    : readyAt.remove(slot);
            ready |= !Objects.equals(before, readyAt.get(slot));
            String sickNow = st == null ? null : sickness(st);
            String sickBefore = sickNow == null ? sick.remove(slot) : sick.put(slot, sickNow);
            sickChanged |= (sickBefore == null) != (sickNow == null);
        }
        return new Changed(ready, sickChanged);
    }

    /** The instance a key under {@code status/} is setlive's status of ({@code <host>/<app>/setlive}), or null. */
    static Slot setliveSlot(String statusPrefix, String key) {
        String[] parts = key.startsWith(statusPrefix) ? key.substring(statusPrefix.length()).split("/", -1)
                : new String[0];
        if (parts.length != 3 || !"setlive".equals(parts[2]) || !Names.valid(parts[0]) || !Names.valid(parts[1])) {
            return null;
        }
        return new Slot(parts[0], parts[1]);
    }

    /** What a setlive status says when it reports its instance sick (too many restarts in its window), else null. */
    static String sickness(AgentStatus st) {
        if (!Boolean.TRUE.equals(st.details().get("sick"))) {
            return null;
        }
        return st.details().get("recentFailures") + " failures within " + st.details().get("failureWindowSeconds")
                + " s";
    }

    /** Instances setlive reports sick, with what it said. */
    Map<Slot, String> sick() {
        return Collections.unmodifiableMap(sick);
    }

    /** Instances on live hosts whose setlive reported them healthy for the revision assigned there now. */
    Set<Slot> healthy(Map<Slot, Assignment> current, Predicate<String> liveHost) {
        Set<Slot> out = new TreeSet<>();
        readyAt.forEach((slot, rev) -> {
            Assignment a = current.get(slot);
            if (a != null && a.appRevision() == rev && liveHost.test(slot.host())) {
                out.add(slot);
            }
        });
        return out;
    }
}
