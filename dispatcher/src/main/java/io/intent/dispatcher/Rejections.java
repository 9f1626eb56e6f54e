package io.intent.dispatcher;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Counts why hosts were turned down, for a pending reason a person can act on. */
final class Rejections {
    private final Map<String, Integer> counts = new TreeMap<>();

    void add(String why) {
        counts.merge(why, 1, Integer::sum);
    }

    String describe(int hostCount) {
        if (hostCount == 0) {
            return "no hosts are registered";
        }
        return "no suitable host among " + hostCount + " (" + counts.entrySet().stream()
                .map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining("; ")) + ")";
    }
}
