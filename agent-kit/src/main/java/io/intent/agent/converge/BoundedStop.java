package io.intent.agent.converge;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Closes parts of a process against one deadline, so a stop never outlasts its budget (etcd gone included). */
final class BoundedStop {
    private static final Logger log = LoggerFactory.getLogger(BoundedStop.class);
    /** Even a part whose turn comes after the deadline gets this long: a quick close still runs. */
    private static final long MIN_MILLIS = 200;

    private final long deadline;

    BoundedStop(Duration budget) {
        this.deadline = System.nanoTime() + budget.toNanos();
    }

    /** Closes every part at once and waits for all of them until the deadline. */
    void closeTogether(String what, List<? extends AutoCloseable> parts) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            threads.add(spawn(what + "-" + i, parts.get(i)));
        }
        for (Thread t : threads) {
            await(t, null);
        }
    }

    /** Closes one part, waiting for it until the deadline. */
    void close(String what, AutoCloseable part) {
        close(what, part, null);
    }

    /** Closes one part, waiting for it at most {@code cap} (if given) and never past the deadline. */
    void close(String what, AutoCloseable part, Duration cap) {
        if (part != null) {
            await(spawn(what, part), cap);
        }
    }

    private static Thread spawn(String what, AutoCloseable part) {
        // a daemon: a close stuck on an unreachable etcd must not keep the JVM from exiting
        Thread t = new Thread(() -> {
            try {
                part.close();
            } catch (Exception e) {
                log.warn("stopping {} failed: {}", what, e.toString());
            }
        }, "stop-" + what);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void await(Thread t, Duration cap) {
        long ms = Math.max(MIN_MILLIS, (deadline - System.nanoTime()) / 1_000_000);
        if (cap != null) {
            ms = Math.min(ms, cap.toMillis());
        }
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            log.warn("{} did not finish within the stop budget; exiting without it", t.getName());
        }
    }
}
