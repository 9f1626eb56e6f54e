package io.intent.bench;

/**
 * One benchmark run by {@code ./intent bench NAME}. The class for NAME {@code foo-bar} is
 * {@code io.intent.bench.FooBarBench}, so adding a benchmark is adding one class.
 */
public interface Benchmark {
    /** Runs once, printing a table and {@code RESULT} lines through {@code report}. */
    void run(Report report, String[] args) throws Exception;

    /** One line for {@code ./intent bench list}. */
    String describe();
}
