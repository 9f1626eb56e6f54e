package io.intent.iptables;

import static io.intent.iptables.Intents.assignment;
import static io.intent.iptables.Intents.tcp;
import static io.intent.iptables.Intents.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.Assignment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChainRendererTest {
    private static final String C = "INTENT-INPUT";

    @Test
    void everyPortBecomesOneAcceptRuleNamingItsAppInTheFormIptablesSavePrints() {
        ChainRules r = ChainRenderer.render(C, Map.of("web", assignment("web", tcp("http", 8080), udp("dns", 53))));
        assertEquals(List.of(
                "-A INTENT-INPUT -p udp -m udp --dport 53 -m comment --comment \"intent:app=web port=dns\" -j ACCEPT",
                "-A INTENT-INPUT -p tcp -m tcp --dport 8080 -m comment --comment \"intent:app=web port=http\""
                        + " -j ACCEPT"), r.rules());
        assertEquals(2, r.count("web"));
        assertTrue(r.rejected().isEmpty());
    }

    @Test
    void sourcesGiveOneRulePerNetworkWithHostBitsClearedAndDuplicatesMerged() {
        ChainRules r = ChainRenderer.render(C, Map.of("db", assignment("db",
                tcp("pg", 5432, "10.1.2.3/8", "192.168.1.7", "10.0.0.0/8"))));
        assertEquals(List.of(
                "-A INTENT-INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -m comment --comment \"intent:app=db port=pg\""
                        + " -j ACCEPT",
                "-A INTENT-INPUT -s 192.168.1.7/32 -p tcp -m tcp --dport 5432 -m comment"
                        + " --comment \"intent:app=db port=pg\" -j ACCEPT"), r.rules());
    }

    @Test
    void aSourceOfAnyoneMeansNoSourceMatchAtAll() {
        ChainRules r = ChainRenderer.render(C, Map.of("db", assignment("db", tcp("pg", 5432, "10.0.0.0/8",
                "0.0.0.0/0"))));
        assertEquals(List.of("-A INTENT-INPUT -p tcp -m tcp --dport 5432 -m comment"
                + " --comment \"intent:app=db port=pg\" -j ACCEPT"), r.rules());
    }

    @Test
    void appsComeInNameOrderWhateverTheInputOrder() {
        Map<String, Assignment> in = new LinkedHashMap<>();
        in.put("zeta", assignment("zeta", tcp("a", 1)));
        in.put("alpha", assignment("alpha", tcp("b", 2), tcp("a", 3)));
        List<String> rules = ChainRenderer.render(C, in).rules();
        assertTrue(rules.get(0).contains("app=alpha port=a"));
        assertTrue(rules.get(1).contains("app=alpha port=b"));
        assertTrue(rules.get(2).contains("app=zeta port=a"));
    }

    @Test
    void aMalformedPortRejectsThatAppWithTheFieldAndReasonAndRendersTheOthers() {
        ChainRules r = ChainRenderer.render(C, Map.of(
                "bad", assignment("bad", tcp("http", 8080), tcp("admin", 70000)),
                "good", assignment("good", tcp("http", 80))));
        assertEquals(Map.of("bad", "app bad: ports[1].port: 70000 is out of range 1-65535"), r.rejected());
        assertEquals(0, r.count("bad"));
        assertEquals(1, r.count("good"));
    }

    @Test
    void hostileAssignmentsAreRejectedNotRendered() {
        Map<String, Assignment> in = new LinkedHashMap<>();
        in.put("no-intent", new Assignment("no-intent", "h1", 1, null));
        in.put("other", assignment("someone-else", tcp("http", 80)));
        in.put("proto", new Assignment("proto", "h1", 1, Intents.app(new io.intent.store.model.PortSpec("x", 80,
                "tcp -j DROP", List.of()))));
        in.put("src", assignment("src", tcp("x", 80, "10.0.0.0/8 -j DROP")));
        in.put("BAD NAME", assignment("BAD NAME", tcp("x", 80)));
        ChainRules r = ChainRenderer.render(C, in);
        assertEquals(in.keySet(), r.rejected().keySet());
        assertTrue(r.rules().isEmpty());
        assertTrue(r.rejected().get("proto").contains("protocol"), r.rejected().get("proto"));
        assertTrue(r.rejected().get("src").contains("sources[0]"), r.rejected().get("src"));
        assertTrue(r.rejected().get("other").contains("someone-else"), r.rejected().get("other"));
    }

    @Test
    void chainNamesThatIptablesRejectsOrThatAreNotOursAreRefused() {
        for (String bad : new String[] {"", "INPUT", "accept", "-X", "A B", "A\nB", "X".repeat(29), null}) {
            assertThrows(IllegalArgumentException.class, () -> ChainRenderer.requireChain(bad), String.valueOf(bad));
        }
        assertEquals("MY_CHAIN.1-x", ChainRenderer.requireChain("MY_CHAIN.1-x"));
    }

    @Test
    void inIpv6APortLimitedToIpv4SourcesStaysClosedRatherThanOpenToAll() {
        Map<String, Assignment> in = Map.of("db", assignment("db", tcp("pg", 5432, "10.0.0.0/8"),
                tcp("http", 80), tcp("any", 81, "10.0.0.0/8", "0.0.0.0/0")));
        List<String> v6 = ChainRenderer.render(C, in, true).rules();
        assertEquals(2, v6.size());
        assertTrue(v6.get(0).contains("port=any") && !v6.get(0).contains(" -s "), v6.get(0));
        assertTrue(v6.get(1).contains("port=http"), v6.get(1));
        assertEquals(3, ChainRenderer.render(C, in).rules().size());
    }

    @Test
    void noAssignmentsMeansAnEmptyChain() {
        assertTrue(ChainRenderer.render(C, Map.of()).rules().isEmpty());
    }

    static Assignment docker(String app, io.intent.store.model.PortSpec... ports) {
        Assignment a = assignment(app, ports);
        var i = a.intent();
        return new Assignment(app, a.host(), a.appRevision(), new io.intent.store.model.AppIntent(i.versions(),
                i.active(), i.run(), i.ports(), i.scale(), i.resources(), i.constraints(), i.health(), "docker",
                i.stateful(), i.maxUnavailable()));
    }

    @Test
    void dockerPortsWithSourcesReturnTheAllowedAndDropTheRestOfTheirDnatedConnections() {
        var rules = ChainRenderer.renderDocker("INTENT-DOCKER", Map.of(
                "web", docker("web", tcp("http", 8080, "10.9.9.9", "10.1.2.3/8"), tcp("open", 9000),
                        udp("stats", 8125, "192.168.0.0/16")),
                "proc", assignment("proc", tcp("http", 7000, "10.0.0.0/8"))));
        String m = " -m conntrack --ctstate DNAT --ctorigdstport ";
        assertEquals(List.of(
                "-A INTENT-DOCKER -s 10.0.0.0/8 -p tcp" + m + "8080 --ctdir ORIGINAL -m comment --comment \"intent:app=web port=http\" -j RETURN",
                "-A INTENT-DOCKER -s 10.9.9.9/32 -p tcp" + m + "8080 --ctdir ORIGINAL -m comment --comment \"intent:app=web port=http\" -j RETURN",
                "-A INTENT-DOCKER -p tcp" + m + "8080 --ctdir ORIGINAL -m comment --comment \"intent:app=web port=http\" -j DROP",
                "-A INTENT-DOCKER -s 192.168.0.0/16 -p udp" + m + "8125 --ctdir ORIGINAL -m comment --comment \"intent:app=web port=stats\" -j RETURN",
                "-A INTENT-DOCKER -p udp" + m + "8125 --ctdir ORIGINAL -m comment --comment \"intent:app=web port=stats\" -j DROP"),
                rules.rules(), "process apps and ports open to anyone get no rules");
        assertEquals("DOCKER-USER", rules.hook());
        String script = RestoreScript.between(rules, ChainState.parse("INTENT-DOCKER", "DOCKER-USER",
                "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")).orElseThrow();
        assertTrue(script.startsWith("*filter\n:INTENT-DOCKER - [0:0]\n:DOCKER-USER - [0:0]\n-I DOCKER-USER -j "
                + "INTENT-DOCKER\n"), "DOCKER-USER is made when dockerd has not made it yet: " + script);
        String existing = RestoreScript.between(rules, ChainState.parse("INTENT-DOCKER", "DOCKER-USER",
                "*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n")).orElseThrow();
        assertTrue(!existing.contains(":DOCKER-USER"), "an existing DOCKER-USER is never declared (flushed): " + existing);
    }
}
