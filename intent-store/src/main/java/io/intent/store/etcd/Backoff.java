package io.intent.store.etcd;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter, capped: attempt n waits a random time in [base·2ⁿ/2, base·2ⁿ], never
 * more than {@code max}. Jitter keeps a fleet of agents from retrying in lockstep.
 */
public record Backoff(Duration base, Duration max) {
    public static final Backoff STORE = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));
    public static final Backoff RECONCILE = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(60));

    public Backoff {
        if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < base <= max");
        }
    }

    /** The delay before retry number {@code attempt} (1 = first retry). */
    public Duration delay(int attempt) {
        long cap = ceiling(attempt);
        long low = cap / 2;
        return Duration.ofMillis(low + ThreadLocalRandom.current().nextLong(cap - low + 1));
    }

    /** The upper bound of {@link #delay(int)} for {@code attempt}, without jitter. */
    public long ceiling(int attempt) {
        int shift = Math.min(Math.max(attempt - 1, 0), 30);
        long grown = base.toMillis() << shift;
        return Math.min(grown <= 0 ? Long.MAX_VALUE : grown, max.toMillis());
    }
}
