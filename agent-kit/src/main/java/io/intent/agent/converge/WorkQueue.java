package io.intent.agent.converge;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A de-duplicating work queue of names, in the style of client-go's workqueue: a name is queued at most
 * once, handed to at most one worker at a time, and a name added while it is being worked on runs again
 * after. Delayed adds replace each other; an immediate add (news: the name changed) cancels a pending delay,
 * while a {@link #resync} add leaves it alone, so the periodic safety net never cuts a backoff short.
 */
final class WorkQueue {
    private final Set<String> queued = new LinkedHashSet<>();
    private final Set<String> running = new HashSet<>();
    private final Set<String> dirty = new HashSet<>();
    private final Map<String, ScheduledFuture<?>> delayed = new HashMap<>();
    /** Names whose pending delay is a failure's backoff (a plain requeue may be overtaken by a resync). */
    private final Set<String> backingOff = new HashSet<>();
    /** Names gathering a burst ({@link #addSettled}): due within the settle time, so a resync leaves them alone. */
    private final Set<String> settling = new HashSet<>();
    /** Names that had news while they ran, with the settle time to wait after the run. */
    private final Map<String, Duration> settleAfterRun = new HashMap<>();
    private final ScheduledExecutorService timer;
    private boolean shutdown;

    WorkQueue(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    synchronized void add(String name) {
        backingOff.remove(name);
        settling.remove(name);
        ScheduledFuture<?> d = delayed.remove(name);
        if (d != null) {
            d.cancel(false);
        }
        enqueue(name);
    }

    /**
     * News for a key whose run gathers a burst (the whole-slice mode): queues it after {@code settle}, unless it is
     * queued or settling already; like {@link #add}, it cuts a backoff or a requeue short. News during its run
     * settles again after the run, so a burst that starts then is still one run.
     */
    synchronized void addSettled(String name, Duration settle) {
        if (settle.isZero()) {
            add(name);
            return;
        }
        if (shutdown || queued.contains(name) || settling.contains(name)) {
            return;
        }
        if (running.contains(name)) {
            settleAfterRun.put(name, settle);
            return;
        }
        addAfter(name, settle);
        settling.add(name);
    }

    /** Queues a name for the periodic resync: unless a backoff or a settle is already pending for it. */
    synchronized void resync(String name) {
        // nor while it is being worked on: that reconcile decides when it runs next (a resync marking it dirty
        // would run a failing name again the moment it finished, past its backoff)
        if (!backingOff.contains(name) && !settling.contains(name) && !running.contains(name)) {
            enqueue(name);
        }
    }

    /** Like {@link #addAfter}, for a failed name's backoff: a {@link #resync} leaves it alone until it fires. */
    synchronized void backOff(String name, Duration delay) {
        addAfter(name, delay);
        if (!shutdown) {
            backingOff.add(name);
        }
    }

    private void enqueue(String name) {
        if (shutdown) {
            return;
        }
        if (running.contains(name)) {
            dirty.add(name);
        } else if (queued.add(name)) {
            notifyAll();
        }
    }

    synchronized void addAfter(String name, Duration delay) {
        if (shutdown) {
            return;
        }
        ScheduledFuture<?> old = delayed.remove(name);
        if (old != null) {
            old.cancel(false);
        }
        backingOff.remove(name);
        settling.remove(name);
        delayed.put(name, timer.schedule(() -> fire(name), delay.toMillis(), TimeUnit.MILLISECONDS));
    }

    private synchronized void fire(String name) {
        delayed.remove(name);
        backingOff.remove(name);
        settling.remove(name);
        enqueue(name);
    }

    /** Blocks until a name is ready; null once shut down. */
    synchronized String take() throws InterruptedException {
        while (queued.isEmpty() && !shutdown) {
            wait();
        }
        if (shutdown) {
            return null;
        }
        var it = queued.iterator();
        String name = it.next();
        it.remove();
        running.add(name);
        return name;
    }

    synchronized void done(String name) {
        running.remove(name);
        Duration settle = settleAfterRun.remove(name);
        if (dirty.remove(name)) {
            enqueue(name);
        } else if (settle != null) {
            addSettled(name, settle);
        }
    }

    synchronized int depth() {
        return queued.size();
    }

    synchronized int inFlight() {
        return running.size();
    }

    synchronized void shutdown() {
        shutdown = true;
        delayed.values().forEach(f -> f.cancel(false));
        delayed.clear();
        notifyAll();
    }
}
