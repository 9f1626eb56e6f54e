package io.intent.iptables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.Assignment;
import io.intent.store.model.PortSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of the pure core over generated hosts, valid and invalid ports mixed. */
class ChainRenderPropertiesTest {

    @Property(tries = 200)
    void renderingDoesNotDependOnTheOrderOfAppsOrPorts(@ForAll("hosts") Map<String, List<PortSpec>> host,
                                                       @ForAll long seed) {
        Map<String, Assignment> a = assignments(host, false, seed);
        Map<String, Assignment> b = assignments(host, true, seed);
        ChainRules ra = ChainRenderer.render("C", a);
        ChainRules rb = ChainRenderer.render("C", b);
        // Reasons name the field index as the operator wrote it, so only the rules and who is rejected compare.
        assertEquals(ra.rules(), rb.rules());
        assertEquals(ra.rejected().keySet(), rb.rejected().keySet());
    }

    @Property(tries = 200)
    void whatWeWriteParsesBackAsExactlyWhatWeWantedSoTheNextPassIsANoop(
            @ForAll("hosts") Map<String, List<PortSpec>> host) {
        ChainRules want = ChainRenderer.render("INTENT-INPUT", assignments(host, false, 0));
        ChainState written = ChainState.parse("INTENT-INPUT", RestoreScript.full(want));
        assertTrue(written.matches(want));
        assertEquals(Optional.empty(), RestoreScript.between(want, written));
    }

    @Property(tries = 200)
    void everyValidAppGetsOneRulePerPortAndSourceAndInvalidAppsNone(
            @ForAll("hosts") Map<String, List<PortSpec>> host) {
        ChainRules r = ChainRenderer.render("C", assignments(host, false, 0));
        int total = 0;
        for (var e : host.entrySet()) {
            boolean valid = e.getValue().stream().allMatch(p -> p.port() >= 1 && p.port() <= 65535);
            int expected = valid ? e.getValue().stream().mapToInt(p -> ChainRenderer.sources(p.sources()).size()).sum()
                    : 0;
            assertEquals(expected, r.count(e.getKey()), e.getKey());
            assertEquals(!valid, r.rejected().containsKey(e.getKey()));
            total += expected;
        }
        assertEquals(total, r.rules().size());
    }

    private static Map<String, Assignment> assignments(Map<String, List<PortSpec>> host, boolean shuffled,
                                                       long seed) {
        List<String> names = new ArrayList<>(host.keySet());
        if (shuffled) {
            Collections.shuffle(names, new java.util.Random(seed));
        }
        Map<String, Assignment> out = new LinkedHashMap<>();
        for (String n : names) {
            List<PortSpec> ports = new ArrayList<>(host.get(n));
            if (shuffled) {
                Collections.shuffle(ports, new java.util.Random(seed + 1));
            }
            out.put(n, Intents.assignment(n, ports.toArray(PortSpec[]::new)));
        }
        return out;
    }

    @Provide
    Arbitrary<Map<String, List<PortSpec>>> hosts() {
        Arbitrary<String> names = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(8);
        Arbitrary<String> cidr = Combinators.combine(Arbitraries.integers().between(0, 255),
                Arbitraries.integers().between(0, 255), Arbitraries.integers().between(0, 32))
                .as((a, b, bits) -> a + "." + b + ".3.4/" + bits);
        Arbitrary<List<PortSpec>> ports = Combinators.combine(
                        Arbitraries.integers().between(1, 5000), Arbitraries.of("tcp", "udp"),
                        cidr.list().ofMaxSize(3), Arbitraries.integers().between(0, 30))
                .as((port, proto, sources, bad) -> new PortSpec(null, bad == 0 ? 70000 : port, proto, sources))
                .list().ofMaxSize(6)
                .map(ChainRenderPropertiesTest::uniqueNamesAndNumbers);
        return Arbitraries.maps(names, ports).ofMaxSize(8);
    }

    // Port names and numbers must be unique within an app for it to be valid; the generator only breaks ports.
    private static List<PortSpec> uniqueNamesAndNumbers(List<PortSpec> in) {
        List<PortSpec> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            PortSpec p = in.get(i);
            int port = p.port() > 65535 ? p.port() : p.port() * 10 + i;
            out.add(new PortSpec("p" + i, port, p.protocol(), p.sources()));
        }
        return out;
    }
}
