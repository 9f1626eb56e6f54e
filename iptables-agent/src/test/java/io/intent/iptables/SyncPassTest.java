package io.intent.iptables;

import static io.intent.iptables.Intents.assignment;
import static io.intent.iptables.Intents.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.converge.Result;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** How one pass turns into each app's status, and when it answers a reconcile without a new pass. */
class SyncPassTest {
    final Map<String, Assignment> host = Map.of("web", assignment("web", tcp("http", 80), tcp("admin", 81)),
            "bad", assignment("bad", tcp("http", 0)));
    final DesiredSlice slice = DesiredSlice.of(50, host);
    final ChainRules rules = ChainRenderer.render("C", host);

    @Test
    void anAppliedAppIsReadyWithItsRuleCountVersionAndRevision() {
        Result r = new SyncPass(slice, rules, true, null).resultFor("web");
        assertEquals(Phase.READY, r.phase());
        assertEquals("2 rules in C", r.message());
        assertEquals(Map.of("rules", 2, "chain", "C"), r.details());
        assertEquals("1.0", r.version());
        assertEquals(7, r.observedRevision());
    }

    @Test
    void anInvalidAppFailsWithItsReasonsAndSaysWhenItsEarlierRulesAreKept() {
        assertEquals("app bad: ports[0].port: 0 is out of range 1-65535",
                new SyncPass(slice, rules, false, null).resultFor("bad").message());
        ChainRules kept = rules.keeping(java.util.Set.of("bad"), ChainState.parse("C", "*filter\n:C - [0:0]\n"
                + "-A C -p tcp -m tcp --dport 5 -m comment --comment \"intent:app=bad port=a\" -j ACCEPT\nCOMMIT\n"));
        Result r = new SyncPass(slice, kept, false, null).resultFor("bad");
        assertEquals(Phase.FAILED, r.phase());
        assertTrue(r.message().endsWith("; its 1 earlier rules are kept"), r.message());
    }

    @Test
    void aFailedRestoreFailsEveryAppWithIptablesOwnWordsAndAnAppGoneFromTheSliceIsRemoved() {
        SyncPass failed = new SyncPass(slice, rules, true, "iptables-restore failed (exit 2): boom");
        assertEquals("iptables-restore failed (exit 2): boom", failed.resultFor("web").message());
        assertEquals(Phase.FAILED, failed.resultFor("web").phase());
        assertEquals("rules of removed app not removed: iptables-restore failed (exit 2): boom",
                failed.resultFor("gone").message());
        assertTrue(new SyncPass(slice, rules, true, null).resultFor("gone").removal());
    }

    @Test
    void withIpv6AnAppIsReadyWhenBothTablesAreAndFailedWhenEitherFails() {
        SyncPass v4 = new SyncPass(slice, rules, true, null);
        SyncPass v6 = new SyncPass(slice, ChainRenderer.render("C", host, true), true, null);
        Result both = IptablesReconciler.combine("web", v4, v6);
        assertEquals(Phase.READY, both.phase());
        assertEquals(Map.of("rules", 2, "rules6", 2, "chain", "C"), both.details());
        SyncPass v6failed = new SyncPass(slice, v6.rules(), true, "ip6tables-restore failed (exit 1): x");
        assertEquals("ip6tables-restore failed (exit 1): x", IptablesReconciler.combine("web", v4, v6failed)
                .message());
        assertTrue(IptablesReconciler.combine("gone", v4, v6).removal());
        assertEquals(v4.resultFor("web"), IptablesReconciler.combine("web", v4, null));
    }

    @Test
    void anUndecodableAssignmentIsKeptAsItIs() {
        DesiredSlice s = new DesiredSlice(3, new TreeMap<>(), new TreeMap<>(Map.of("junk", "bad JSON")));
        assertTrue(s.contains("junk"));
        assertEquals(Phase.FAILED, new SyncPass(s, ChainRenderer.render("C", Map.of()), false, null)
                .resultFor("junk").phase());
    }
}
