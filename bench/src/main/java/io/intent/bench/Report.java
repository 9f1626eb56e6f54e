package io.intent.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints a benchmark's table and, last, one line per figure in the format of docs/benchmarks.md:
 * {@code RESULT <name> value=<v> unit=<u> limit=<l> ratio=<v/l>}. The limit is always measured in the same run.
 */
public final class Report {
    private final String bench;
    private final List<String[]> rows = new ArrayList<>();
    private final List<String> results = new ArrayList<>();

    public Report(String bench) {
        this.bench = bench;
    }

    /** A row of the table: what was measured, its value, its unit, and a note (e.g. sample size). */
    public void row(String what, double value, String unit, String note) {
        rows.add(new String[] {what, fmt(value), unit, note});
        System.out.printf(Locale.ROOT, "  %-44s %12s %-8s %s%n", what, fmt(value), unit, note);
    }

    /** A figure with its physical limit; ratio = value / limit. A limit of 0 or less prints {@code limit=none}. */
    public void result(String name, double value, String unit, double limit) {
        String line = limit > 0
                ? String.format(Locale.ROOT, "RESULT %s value=%s unit=%s limit=%s ratio=%s", name, fmt(value), unit,
                        fmt(limit), fmt(value / limit))
                : String.format(Locale.ROOT, "RESULT %s value=%s unit=%s limit=none", name, fmt(value), unit);
        results.add(line);
    }

    public void header(String text) {
        System.out.println();
        System.out.println("== " + bench + ": " + text);
    }

    /** Prints the RESULT lines; call once at the end. */
    public void finish() {
        System.out.println();
        results.forEach(System.out::println);
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e12) {
            return String.format(Locale.ROOT, "%d", (long) v);
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.3f", v);
    }
}
