package io.intent.iptables;

import io.intent.store.etcd.Entry;
import io.intent.store.model.Assignment;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The host's whole assignment slice at one etcd revision, as a sync pass sees it: the decodable assignments by
 * app name, and the names whose value does not decode (their rules are kept as they are).
 *
 * @param revision    the etcd revision the slice was read at
 * @param assignments decodable assignments by app name
 * @param undecodable app names whose stored value is not valid JSON for an assignment
 */
public record DesiredSlice(long revision, SortedMap<String, Assignment> assignments, SortedMap<String, String> undecodable) {

    public DesiredSlice {
        assignments = new TreeMap<>(assignments);
        undecodable = new TreeMap<>(undecodable);
    }

    /**
     * The slice as the converge kit hands it to a whole-slice reconciler, by app name; its revision is the newest
     * mod revision in it.
     */
    public static DesiredSlice of(Map<String, Entry<Assignment>> desired) {
        SortedMap<String, Assignment> ok = new TreeMap<>();
        SortedMap<String, String> bad = new TreeMap<>();
        long revision = 0;
        for (var e : desired.entrySet()) {
            Entry<Assignment> entry = e.getValue();
            revision = Math.max(revision, entry.modRevision());
            if (entry.valid()) {
                ok.put(e.getKey(), entry.value());
            } else {
                bad.put(e.getKey(), entry.error());
            }
        }
        return new DesiredSlice(revision, ok, bad);
    }

    /** A slice that is not backed by etcd (benchmarks, the pure tests). */
    public static DesiredSlice of(long revision, Map<String, Assignment> assignments) {
        return new DesiredSlice(revision, new TreeMap<>(assignments), new TreeMap<>());
    }

    public boolean contains(String app) {
        return assignments.containsKey(app) || undecodable.containsKey(app);
    }
}
