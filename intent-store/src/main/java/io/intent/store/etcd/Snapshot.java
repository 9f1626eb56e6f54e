package io.intent.store.etcd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** All keys under a prefix at one etcd revision: a consistent view to start a watch from. */
public record Snapshot<T>(long revision, List<Entry<T>> entries) {
    public Snapshot {
        entries = List.copyOf(entries);
    }

    public Map<String, Entry<T>> byKey() {
        Map<String, Entry<T>> m = new LinkedHashMap<>();
        entries.forEach(e -> m.put(e.key(), e));
        return m;
    }
}
