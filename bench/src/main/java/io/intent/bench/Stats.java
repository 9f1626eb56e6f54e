package io.intent.bench;

import java.util.Arrays;

/** Percentiles over samples in nanoseconds, reported in milliseconds. */
public final class Stats {
    private final long[] sorted;

    public Stats(long[] nanos) {
        this.sorted = nanos.clone();
        Arrays.sort(sorted);
    }

    public double percentileMs(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))] / 1e6;
    }

    public double p50() {
        return percentileMs(50);
    }

    public double p99() {
        return percentileMs(99);
    }

    public int count() {
        return sorted.length;
    }
}
