package io.intent.api.status;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.KeyLayout;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Placement;
import java.util.Map;
import org.pcollections.TreePMap;

/**
 * Folds key changes under the six prefixes the status model reads into an {@link Observed} snapshot. The maps are
 * persistent (structure-sharing), so each change costs O(log n) and every {@link #build} is free and immutable:
 * a snapshot handed to a reader never changes under it. Keys outside those prefixes are ignored. Not thread-safe:
 * one writer (the watch thread, or one etcd read) applies changes.
 */
public final class ObservedBuilder {
    private final KeyLayout keys;
    private TreePMap<String, Entry<AppIntent>> apps = TreePMap.empty();
    private TreePMap<String, Entry<HostSpec>> hosts = TreePMap.empty();
    private TreePMap<String, Entry<Liveness>> live = TreePMap.empty();
    private TreePMap<String, Entry<Placement>> placements = TreePMap.empty();
    private TreePMap<String, Map<String, Entry<Assignment>>> assignments = TreePMap.empty();
    private TreePMap<String, Map<String, Map<String, Entry<AgentStatus>>>> statuses = TreePMap.empty();

    public ObservedBuilder(KeyLayout keys) {
        this.keys = keys;
    }

    /** The key prefixes this builder folds; everything else under the root is ignored. */
    public java.util.List<String> prefixes() {
        return java.util.List.of(keys.appsPrefix(), keys.hostsPrefix(), keys.livePrefix(), keys.placementPrefix(),
                keys.assignPrefix(), keys.statusPrefix());
    }

    /** Applies a put of {@code entry} (decoded as a JSON tree, or invalid) at its key. */
    public void put(Entry<JsonNode> entry) {
        apply(entry.key(), entry);
    }

    /** Applies the deletion of {@code key}. */
    public void delete(String key) {
        apply(key, null);
    }

    /** An immutable snapshot of everything applied so far, labelled with {@code revision}. */
    public Observed build(long revision) {
        return new Observed(revision, apps, hosts, live, placements, assignments, statuses);
    }

    private void apply(String key, Entry<JsonNode> e) {
        String name;
        if ((name = child(keys.appsPrefix(), key)) != null) {
            apps = e == null ? apps.minus(name) : apps.plus(name, typed(e, AppIntent.class));
        } else if ((name = child(keys.hostsPrefix(), key)) != null) {
            hosts = e == null ? hosts.minus(name) : hosts.plus(name, typed(e, HostSpec.class));
        } else if ((name = child(keys.livePrefix(), key)) != null) {
            live = e == null ? live.minus(name) : live.plus(name, typed(e, Liveness.class));
        } else if ((name = child(keys.placementPrefix(), key)) != null) {
            placements = e == null ? placements.minus(name) : placements.plus(name, typed(e, Placement.class));
        } else if (key.startsWith(keys.assignPrefix())) {
            String[] p = key.substring(keys.assignPrefix().length()).split("/", -1);
            if (p.length == 2) {
                assignments = nested(assignments, p[0], p[1], e == null ? null : typed(e, Assignment.class));
            }
        } else if (key.startsWith(keys.statusPrefix())) {
            String[] p = key.substring(keys.statusPrefix().length()).split("/", -1);
            if (p.length == 3) {
                @SuppressWarnings("unchecked")
                TreePMap<String, Map<String, Entry<AgentStatus>>> byApp = (TreePMap<String, Map<String,
                        Entry<AgentStatus>>>) (Map<?, ?>) statuses.getOrDefault(p[0], TreePMap.empty());
                byApp = nested(byApp, p[1], p[2], e == null ? null : typed(e, AgentStatus.class));
                statuses = byApp.isEmpty() ? statuses.minus(p[0]) : statuses.plus(p[0], byApp);
            }
        }
    }

    /** {@code outer[a][b] = value} (or removed when null), dropping an inner map that becomes empty. */
    private static <V> TreePMap<String, Map<String, V>> nested(TreePMap<String, Map<String, V>> outer, String a,
                                                                String b, V value) {
        @SuppressWarnings("unchecked")
        TreePMap<String, V> inner = (TreePMap<String, V>) outer.getOrDefault(a, TreePMap.empty());
        inner = value == null ? inner.minus(b) : inner.plus(b, value);
        return inner.isEmpty() ? outer.minus(a) : outer.plus(a, inner);
    }

    private static String child(String prefix, String key) {
        return key.startsWith(prefix) ? KeyLayout.childName(prefix, key) : null;
    }

    /** The entry decoded as {@code type} with the store's strictness; a value that does not fit is an invalid entry. */
    static <T> Entry<T> typed(Entry<JsonNode> e, Class<T> type) {
        if (!e.valid()) {
            return new Entry<>(e.key(), null, e.error(), e.raw(), e.modRevision(), e.createRevision(), e.lease());
        }
        try {
            T value = Json.convert(e.value(), type);
            if (value == null) {
                throw new InvalidValueException("value is JSON null");
            }
            return new Entry<>(e.key(), value, null, null, e.modRevision(), e.createRevision(), e.lease());
        } catch (InvalidValueException bad) {
            String text = e.value().toString();
            return new Entry<>(e.key(), null, bad.getMessage(), text.length() > 1024 ? text.substring(0, 1024) : text,
                    e.modRevision(), e.createRevision(), e.lease());
        }
    }
}
