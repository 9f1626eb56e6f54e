package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The evacuation policy as the pure decision it is: disruption mode and the rate limit. */
class EvacuationTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private static final Set<String> TEN = Set.of("h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9");

    private static Map<String, Long> dead(String... hosts) {
        Map<String, Long> out = new TreeMap<>();
        for (int i = 0; i < hosts.length; i++) {
            out.put(hosts[i], (long) i);
        }
        return out;
    }

    @Test
    void moreThanTheThresholdUnreachableHoldsEveryDeadHost() {
        Evacuation e = new Evacuation(Evacuation.Limits.defaults());
        var v = e.decide(TEN, Set.of("h0", "h1", "h2", "h3", "h4", "h5"), dead("h0", "h1"), 100 * S);
        assertTrue(v.disruption(), "6 of 10 is over 55 %");
        assertEquals(Set.of("h0", "h1"), v.held().keySet());
        assertTrue(v.held().get("h0").startsWith("disruption mode: 6 of 10 hosts unreachable (over 55 %)"),
                v.held().get("h0"));
    }

    @Test
    void atTheThresholdOrBelowDeadHostsAreEvacuated() {
        Evacuation e = new Evacuation(new Evacuation.Limits(0.5, 100));
        var v = e.decide(TEN, Set.of("h0", "h1", "h2", "h3", "h4"), dead("h0", "h1", "h2", "h3", "h4"), 0);
        assertFalse(v.disruption(), "5 of 10 is not over 50 %");
        assertTrue(v.held().isEmpty());
        assertEquals(Set.of("h0", "h1", "h2", "h3", "h4"), e.admitted());
    }

    @Test
    void aWholeFleetCutOffIsDisruptionEvenForOneHost() {
        Evacuation e = new Evacuation(Evacuation.Limits.defaults());
        assertTrue(e.decide(Set.of("h1"), Set.of("h1"), dead("h1"), 0).disruption());
        assertTrue(e.decide(Set.of("h1", "h2", "h3"), Set.of("h1", "h2"), dead("h1", "h2"), 0).disruption());
        assertFalse(e.decide(Set.of("h1", "h2", "h3"), Set.of("h1"), dead("h1"), 0).disruption());
    }

    @Test
    void draininigOrUnregisteredHostsDoNotCount() {
        Evacuation e = new Evacuation(Evacuation.Limits.defaults());
        // h9 unreachable but not counted (draining): 5 of 9 counted is 55.6 %, over the threshold
        var v = e.decide(Set.of("h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"),
                Set.of("h0", "h1", "h2", "h3", "h4", "h9"), dead("h0"), 0);
        assertTrue(v.disruption());
        assertEquals(5, v.unreachable());
        assertEquals(9, v.counted());
    }

    @Test
    void atMostPerMinuteHostsStartBeingEvacuatedOldestFirst() {
        Evacuation e = new Evacuation(new Evacuation.Limits(0.9, 2));
        Set<String> down = Set.of("h0", "h1", "h2", "h3");
        Map<String, Long> dead = new TreeMap<>(Map.of("h3", 1L, "h0", 2L, "h2", 3L, "h1", 4L));
        var v = e.decide(TEN, down, dead, 10 * S);
        assertEquals(Set.of("h3", "h0"), e.admitted(), "the two missing longest go first");
        assertEquals(Set.of("h1", "h2"), v.held().keySet());
        assertTrue(v.held().get("h1").contains("at most 2 host(s) a minute"));
        assertEquals(70 * S, v.nextTurn());

        v = e.decide(TEN, down, dead, 69 * S);
        assertEquals(Set.of("h1", "h2"), v.held().keySet(), "still within the minute");
        v = e.decide(TEN, down, dead, 70 * S);
        assertTrue(v.held().isEmpty(), "a minute later both get their turn");
        assertEquals(Long.MAX_VALUE, v.nextTurn());
    }

    @Test
    void anAdmittedHostStaysAdmittedUntilItIsBackAndThenCountsAgain() {
        Evacuation e = new Evacuation(new Evacuation.Limits(0.9, 1));
        e.decide(TEN, Set.of("h0"), dead("h0"), 0);
        assertEquals(Set.of("h0"), e.admitted());
        var v = e.decide(TEN, Set.of("h0", "h1"), dead("h0", "h1"), S);
        assertEquals(Set.of("h1"), v.held().keySet(), "h0 keeps its turn; h1 waits");
        v = e.decide(TEN, Set.of("h1"), dead("h1"), 2 * S);
        assertEquals(Set.of(), e.admitted(), "h0 is back: no longer admitted");
        assertEquals(Set.of("h1"), v.held().keySet(), "the minute is not over");
    }

    @Test
    void disruptionModeEndsWhenEnoughHostsAreBack() {
        Evacuation e = new Evacuation(Evacuation.Limits.defaults());
        Set<String> three = Set.of("h1", "h2", "h3");
        assertTrue(e.decide(three, three, dead("h1", "h2", "h3"), 0).disruption());
        var v = e.decide(three, Set.of("h3"), dead("h3"), S);
        assertFalse(v.disruption());
        assertEquals(Set.of("h3"), e.admitted());
    }

    @Test
    void limitsOutsideTheirRangeAreRefusedWithTheValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Evacuation.Limits(1.5, 6));
        assertTrue(e.getMessage().contains("1.5"));
        assertThrows(IllegalArgumentException.class, () -> new Evacuation.Limits(0, 6));
        assertThrows(IllegalArgumentException.class, () -> new Evacuation.Limits(0.55, 0));
    }
}
