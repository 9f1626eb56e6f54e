package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.Names;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way the leader's single-threaded parts follow a watched prefix: every batch of changes under a prefix
 * runs on the owner's thread (through {@code onThread}), and the owner can tell which prefixes have been listed
 * at least once, so it acts only on a whole view.
 */
final class WatchedPrefixes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WatchedPrefixes.class);

    private final EtcdStore store;
    private final Consumer<Runnable> onThread;
    private final List<SliceWatch<?>> watches = new CopyOnWriteArrayList<>();
    /** Confined to the owner's thread. */
    private final Set<String> listed = new HashSet<>();

    WatchedPrefixes(EtcdStore store, Consumer<Runnable> onThread) {
        this.store = store;
        this.onThread = onThread;
    }

    /** Follows {@code prefix}: each batch goes to {@code onChanges} on the owner's thread, then counts as listed. */
    <T> void follow(String prefix, Class<T> type, Consumer<List<SliceWatch.Change<T>>> onChanges) {
        watches.add(store.watchSlice(prefix, type, (changes, rev, relisted) -> onThread.accept(() -> {
            listed.add(prefix);
            onChanges.accept(changes);
        })));
    }

    /** Whether every one of {@code prefixes} has been listed; call on the owner's thread. */
    boolean listed(String... prefixes) {
        return listed.containsAll(List.of(prefixes));
    }

    /** How many prefixes have been listed; call on the owner's thread. */
    int listedCount() {
        return listed.size();
    }

    /** Lists every prefix again (the periodic resync). */
    void resync() {
        watches.forEach(SliceWatch::resync);
    }

    @Override
    public void close() {
        watches.forEach(SliceWatch::close);
    }

    /**
     * Hands each change to {@code each} with its child name under {@code prefix}; a key that names no valid child
     * (etcdctl can write any key, the API refuses such a name) is logged and skipped.
     */
    static <T> void byChild(String prefix, List<SliceWatch.Change<T>> changes,
                            BiConsumer<String, SliceWatch.Change<T>> each) {
        for (var c : changes) {
            String name = KeyLayout.childName(prefix, c.key());
            if (name == null || !Names.valid(name)) {
                log.warn("ignoring {}: not a valid name under {}", c.key().replaceAll("\\p{Cntrl}", "?"), prefix);
                continue;
            }
            each.accept(name, c);
        }
    }
}
