package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.SliceWatch;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A part of the leader that follows some prefixes all the time and writes only during a term, on one thread of
 * its own: the watch and term set-up {@link ChannelFollower} and {@link HostSteward} share. A burst of changes
 * makes one {@link #act step}; a step runs only while a term is on and every watched prefix has been listed, and a
 * step that fails (etcd unreachable, or a bug) is retried after a second.
 */
abstract class TermFollower implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TermFollower.class);

    protected final EtcdStore store;
    protected final KeyLayout keys;
    protected final ScheduledExecutorService exec;
    private final String what;
    private final int watchCount;
    private final WatchedPrefixes watched;
    private volatile Fence fence;
    private volatile boolean active = true;
    /** Confined to exec: a step is queued already. */
    private boolean stepDue;

    /**
     * @param what       how the logs name this part
     * @param watchCount how many prefixes the subclass follows: a step waits until all of them are listed
     */
    protected TermFollower(EtcdStore store, String thread, String what, int watchCount) {
        this.store = store;
        this.keys = store.keys();
        this.what = what;
        this.watchCount = watchCount;
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, thread);
            t.setDaemon(true);
            return t;
        });
        this.watched = new WatchedPrefixes(store, this::post);
    }

    /** Follows {@code prefix}: each batch of changes goes to {@code apply} on this part's thread, then a step is due. */
    protected final <T> void watch(String prefix, Class<T> type, Consumer<List<SliceWatch.Change<T>>> apply) {
        watched.follow(prefix, type, changes -> {
            apply.accept(changes);
            if (!stepDue) {
                stepDue = true;
                post(this::step);
            }
        });
    }

    /** Begins a term: from now on steps write, fenced by {@code f}. */
    public final void lead(Fence f) {
        fence = f;
        post(this::termBegan);
    }

    /** Ends the term of {@code f}: no write starts after this returns. */
    public final void standDown(Fence f) {
        if (f.equals(fence)) {
            fence = null;
        }
    }

    /** Runs on this part's thread when a term begins; at least {@link #step}s. */
    protected abstract void termBegan();

    /** One step over a whole view, under the term's fence {@code f}. */
    protected abstract void act(Fence f);

    protected final void step() {
        stepDue = false;
        Fence f = actingFence();
        if (f != null) {
            act(f);
        }
    }

    /** The term's fence while a term is on and every watched prefix has been listed, else null. */
    protected final Fence actingFence() {
        Fence f = fence;
        return f == null || watched.listedCount() < watchCount ? null : f;
    }

    protected final void post(Runnable r) {
        if (!active) {
            return;
        }
        try {
            exec.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    // etcd unreachable or a bug: the next change, or the retry below, steps again
                    log.warn("{} step failed ({}); retrying in 1 s", what, Failures.describe(e));
                    try {
                        exec.schedule(() -> post(this::step), 1, TimeUnit.SECONDS);
                    } catch (RejectedExecutionException stopping) {
                        // stopping
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    /** Tracks a child of {@code prefix} by name in {@code into}: put, or removed on delete. */
    protected static <T> void track(Map<String, Entry<T>> into, String prefix,
                                    List<SliceWatch.Change<T>> changes) {
        WatchedPrefixes.byChild(prefix, changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                into.remove(name);
            } else {
                into.put(name, c.entry());
            }
        });
    }

    @Override
    public void close() {
        active = false;
        watched.close();
        exec.shutdownNow();
    }
}
