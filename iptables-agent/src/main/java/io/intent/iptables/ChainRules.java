package io.intent.iptables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The desired content of intent's chain: its rule lines ({@code -A CHAIN ...}, in the exact form
 * {@code iptables-save} prints them) grouped by app in name order, and the apps whose assignments were
 * rejected, with the reason.
 *
 * @param chain    the chain's name, e.g. {@code INTENT-INPUT}
 * @param byApp    each app's rule lines, apps in name order
 * @param rejected apps whose assignment could not be rendered, and why
 * @param hook     the chain that jumps to ours: {@code INPUT}, or {@code DOCKER-USER} for published docker ports
 */
public record ChainRules(String chain, SortedMap<String, List<String>> byApp, SortedMap<String, String> rejected,
                         String hook) {

    /** Rules of the chain hooked into INPUT. */
    public ChainRules(String chain, SortedMap<String, List<String>> byApp, SortedMap<String, String> rejected) {
        this(chain, byApp, rejected, ChainRenderer.HOOK);
    }

    public ChainRules {
        TreeMap<String, List<String>> lines = new TreeMap<>();
        byApp.forEach((app, l) -> lines.put(app, List.copyOf(l)));
        byApp = Collections.unmodifiableSortedMap(lines);
        rejected = Collections.unmodifiableSortedMap(new TreeMap<>(rejected));
    }

    /** Every rule line of the chain, in order. */
    public List<String> rules() {
        List<String> all = new ArrayList<>();
        byApp.values().forEach(all::addAll);
        return all;
    }

    /** How many rules {@code app} has in the chain. */
    public int count(String app) {
        return byApp.getOrDefault(app, List.of()).size();
    }

    /**
     * These rules plus, for each app in {@code keep} that has no rendered rules of its own, the rules
     * {@code actual} holds for it: an app whose assignment is invalid keeps what it had (bad input hurts
     * nothing, and never tears down what runs).
     */
    public ChainRules keeping(Set<String> keep, ChainState actual) {
        SortedMap<String, List<String>> lines = new TreeMap<>(byApp);
        Map<String, List<String>> had = actual.rulesByApp();
        for (String app : keep) {
            List<String> old = had.get(app);
            if (!lines.containsKey(app) && old != null && !old.isEmpty()) {
                lines.put(app, old);
            }
        }
        return new ChainRules(chain, lines, rejected, hook);
    }
}
