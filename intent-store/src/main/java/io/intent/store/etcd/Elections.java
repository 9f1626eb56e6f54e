package io.intent.store.etcd;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The candidates of every election under a prefix, read at one revision. etcd's election recipe writes one key
 * {@code <election>/<lease hex>} per candidate (value: what it proposed); the key with the lowest create revision
 * leads. Values are kept as text ({@link Entry#value()}), since a candidate may propose any bytes.
 *
 * @param revision   the revision of the read
 * @param candidates per election name, its candidates in create-revision order: the first leads
 */
public record Elections(long revision, Map<String, List<Entry<String>>> candidates) {
    public Elections {
        candidates = Map.copyOf(candidates);
    }

    /** The candidate leading {@code election}, if anyone campaigns. */
    public Optional<Entry<String>> leaderOf(String election) {
        return candidates.getOrDefault(election, List.of()).stream().findFirst();
    }
}
