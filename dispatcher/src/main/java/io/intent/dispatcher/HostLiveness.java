package io.intent.dispatcher;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Tells live hosts, hosts in their grace period and dead hosts apart, from the comings and goings of
 * {@code /intent/live/<host>}. A host is dead only after its liveness key has been missing for the whole
 * grace period, so an etcd hiccup or an agent restart (key gone, back seconds later) moves nothing.
 *
 * <p>A host this dispatcher has never seen live (its key was already missing when this leader started, or it
 * only has a spec) counts as missing since the tracker's first successful read of liveness ({@link #read}),
 * not since the process started: a leader that could not reach etcd for a minute at start-up must not take
 * every host it then fails to see for dead at once. So a new leader never declares a host dead faster than the
 * grace period, at the price of a late verdict for hosts that died just before a failover.
 * Times are {@link System#nanoTime()} values passed in, so the class is testable without waiting.
 */
public final class HostLiveness {
    private final long graceNanos;
    private long startNanos;
    private boolean read;
    private final Set<String> present = new TreeSet<>();
    private final Map<String, Long> goneSince = new HashMap<>();

    public HostLiveness(Duration grace, long nowNanos) {
        this.graceNanos = grace.toNanos();
        this.startNanos = nowNanos;
    }

    /** Marks a successful read of the liveness keys; the first one starts the clock of never-seen hosts. */
    public void read(long nowNanos) {
        if (!read) {
            read = true;
            startNanos = nowNanos;
        }
    }

    /** Since when (nanoTime) {@code host}'s key has been missing, as far as this tracker knows. */
    public long missingSince(String host) {
        return since(host);
    }

    /** Whether {@code host}'s key exists now. */
    public boolean isLive(String host) {
        return present.contains(host);
    }

    public void present(String host) {
        present.add(host);
        goneSince.remove(host);
    }

    public void gone(String host, long nowNanos) {
        if (present.remove(host)) {
            goneSince.put(host, nowNanos);
        }
    }

    /** Hosts whose liveness key exists now. */
    public Set<String> live() {
        return new TreeSet<>(present);
    }

    /** Of {@code hosts}, those missing for less than the grace period. */
    public Set<String> graced(Collection<String> hosts, long nowNanos) {
        Set<String> out = new TreeSet<>();
        for (String h : hosts) {
            if (!present.contains(h) && nowNanos - since(h) < graceNanos) {
                out.add(h);
            }
        }
        return out;
    }

    /** When the next of {@code hosts} in grace becomes dead, in nanoTime; {@code Long.MAX_VALUE} when none will. */
    public long nextDeath(Collection<String> hosts, long nowNanos) {
        long next = Long.MAX_VALUE;
        for (String h : hosts) {
            long death = since(h) + graceNanos;
            if (!present.contains(h) && death > nowNanos) {
                next = Math.min(next, death);
            }
        }
        return next;
    }

    private long since(String host) {
        return goneSince.getOrDefault(host, startNanos);
    }
}
