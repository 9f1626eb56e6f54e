package io.intent.iptables;

import io.intent.store.codec.Cidr;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Names;
import io.intent.store.codec.Validation;
import io.intent.store.model.Assignment;
import io.intent.store.model.PortSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Renders a host's assignments into the rules of intent's chain: one ACCEPT rule per app port (one per source
 * CIDR when the port lists sources), in a deterministic order and in the exact form {@code iptables-save}
 * prints, so "same as the kernel" is a string comparison. A pure function.
 */
public final class ChainRenderer {
    /** The chain used unless configured otherwise. */
    public static final String DEFAULT_CHAIN = "INTENT-INPUT";
    /** Where the chain is hooked in; only this jump is ours, every other INPUT rule is left alone. */
    public static final String HOOK = "INPUT";
    /** The docker chain used unless configured otherwise. */
    public static final String DEFAULT_DOCKER_CHAIN = "INTENT-DOCKER";
    /**
     * Where the docker chain is hooked in: Docker's own chain for user rules, run from FORWARD before Docker's
     * accept of published ports. Published ports are DNATed in PREROUTING and never reach INPUT.
     */
    public static final String DOCKER_HOOK = "DOCKER-USER";
    /** Prefix of the comment on every rule we write, naming the app it belongs to. */
    public static final String COMMENT_PREFIX = "intent:app=";

    // iptables chain names are at most 28 characters; ours must also be safe inside a restore script.
    private static final Pattern CHAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,27}");
    private static final Set<String> BUILTIN = Set.of("INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING",
            "ACCEPT", "DROP", "RETURN", "REJECT", "QUEUE", "LOG", "DOCKER", "DOCKER-USER");

    private ChainRenderer() {
    }

    /** Returns {@code chain} when it can name our own chain, else throws saying why. */
    public static String requireChain(String chain) {
        if (chain == null || !CHAIN.matcher(chain).matches()) {
            throw new IllegalArgumentException("chain name '" + chain + "' must be 1-28 letters, digits, '_', '.'"
                    + " or '-', starting with a letter or digit");
        }
        if (BUILTIN.contains(chain.toUpperCase())) {
            throw new IllegalArgumentException("chain name '" + chain + "' is a built-in chain or target; intent"
                    + " needs a chain of its own");
        }
        return chain;
    }

    /**
     * The rules for {@code assignments} (app name → assignment). An app whose name or intent is invalid gets
     * no rules and is listed in {@link ChainRules#rejected()} with every reason; the others are unaffected.
     */
    public static ChainRules render(String chain, Map<String, Assignment> assignments) {
        return render(chain, assignments, false);
    }

    /**
     * The rules for {@code assignments} in the IPv4 table, or with {@code ipv6} in the IPv6 one. Sources are
     * IPv4 networks, so in IPv6 only the ports open to anyone get a rule: a port limited to some sources stays
     * closed to IPv6 rather than open to all of it.
     */
    public static ChainRules render(String chain, Map<String, Assignment> assignments, boolean ipv6) {
        requireChain(chain);
        SortedMap<String, List<String>> byApp = new TreeMap<>();
        SortedMap<String, String> rejected = new TreeMap<>();
        eachValid(assignments, rejected, (app, a) -> byApp.put(app, rules(chain, app, a.intent().ports(), ipv6)));
        return new ChainRules(chain, byApp, rejected);
    }

    /**
     * The rules of the docker chain (jumped to from {@code DOCKER-USER}) for {@code assignments}: for each port
     * of a {@code runtime: docker} app that lists sources, a RETURN (on to Docker's own accept) per source and
     * then a DROP, both matching connections DNATed from that host port ({@code --ctorigdstport}) in their
     * original direction, so replies and every other forwarded packet pass untouched. Ports open to anyone
     * and process apps get no rules. Invalid apps are rejected as in {@link #render}.
     */
    public static ChainRules renderDocker(String chain, Map<String, Assignment> assignments) {
        requireChain(chain);
        SortedMap<String, List<String>> byApp = new TreeMap<>();
        SortedMap<String, String> rejected = new TreeMap<>();
        eachValid(assignments, rejected, (app, a) -> {
            if (!a.intent().isDocker()) {
                return;
            }
            List<PortSpec> sorted = new ArrayList<>(a.intent().ports());
            sorted.sort(Comparator.comparing(PortSpec::name));
            List<String> lines = new ArrayList<>();
            for (PortSpec p : sorted) {
                List<String> sources = sources(p.sources());
                if (sources.get(0) == null) {
                    continue;
                }
                String match = " -p " + p.protocolOrDefault() + " -m conntrack --ctstate DNAT --ctorigdstport "
                        + p.port() + " --ctdir ORIGINAL -m comment --comment \"" + COMMENT_PREFIX + app + " port="
                        + p.name() + "\"";
                for (String source : sources) {
                    lines.add("-A " + chain + " -s " + source + match + " -j RETURN");
                }
                lines.add("-A " + chain + match + " -j DROP");
            }
            if (!lines.isEmpty()) {
                byApp.put(app, lines);
            }
        });
        return new ChainRules(chain, byApp, rejected, DOCKER_HOOK);
    }

    /**
     * Hands each valid assignment, in app-name order, to {@code valid}; puts each invalid one's reason in
     * {@code rejected} instead, so one bad app never costs the others their rules.
     */
    private static void eachValid(Map<String, Assignment> assignments, SortedMap<String, String> rejected,
            BiConsumer<String, Assignment> valid) {
        for (var e : new TreeMap<>(assignments).entrySet()) {
            String problem = problem(e.getKey(), e.getValue());
            if (problem != null) {
                rejected.put(e.getKey(), problem);
            } else {
                valid.accept(e.getKey(), e.getValue());
            }
        }
    }

    private static String problem(String app, Assignment a) {
        if (!Names.valid(app)) {
            return "app name " + Names.problem(app);
        }
        if (a == null || a.intent() == null) {
            return "app " + app + ": the assignment carries no intent";
        }
        if (a.app() != null && !a.app().equals(app)) {
            return "app " + app + ": the assignment is for app '" + a.app() + "'";
        }
        List<FieldError> errors = Validation.check(app, a.intent());
        if (!errors.isEmpty()) {
            return "app " + app + ": " + errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
        }
        return null;
    }

    private static List<String> rules(String chain, String app, List<PortSpec> ports, boolean ipv6) {
        List<String> lines = new ArrayList<>();
        List<PortSpec> sorted = new ArrayList<>(ports);
        sorted.sort(Comparator.comparing(PortSpec::name));
        for (PortSpec p : sorted) {
            String proto = p.protocolOrDefault();
            String match = " -p " + proto + " -m " + proto + " --dport " + p.port()
                    + " -m comment --comment \"" + COMMENT_PREFIX + app + " port=" + p.name() + "\" -j ACCEPT";
            List<String> sources = sources(p.sources());
            if (ipv6 && sources.get(0) != null) {
                continue;
            }
            for (String source : sources) {
                lines.add("-A " + chain + (source == null ? "" : " -s " + source) + match);
            }
        }
        return lines;
    }

    /** The canonical sources of a port: none (null, anyone) or the distinct networks, as iptables prints them. */
    static List<String> sources(List<String> cidrs) {
        if (cidrs.isEmpty()) {
            return Collections.singletonList(null);
        }
        TreeSet<Long> seen = new TreeSet<>();
        List<long[]> nets = new ArrayList<>();
        for (String c : cidrs) {
            long[] net = canonical(c);
            if (net[1] == 0) {
                return Collections.singletonList(null);
            }
            if (seen.add(net[0] << 6 | net[1])) {
                nets.add(net);
            }
        }
        nets.sort(Comparator.<long[]>comparingLong(n -> n[0]).thenComparingLong(n -> n[1]));
        List<String> out = new ArrayList<>();
        for (long[] n : nets) {
            out.add(dotted(n[0]) + "/" + n[1]);
        }
        return out;
    }

    /** {network, prefix length} with the host bits cleared, as iptables stores it; a bare address is a /32. */
    static long[] canonical(String cidr) {
        if (!Cidr.valid(cidr)) {
            throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 CIDR");
        }
        int slash = cidr.indexOf('/');
        int bits = slash < 0 ? 32 : Integer.parseInt(cidr.substring(slash + 1));
        String[] o = (slash < 0 ? cidr : cidr.substring(0, slash)).split("\\.");
        long addr = 0;
        for (String part : o) {
            addr = addr << 8 | Long.parseLong(part);
        }
        long mask = bits == 0 ? 0 : (0xFFFFFFFFL << (32 - bits)) & 0xFFFFFFFFL;
        return new long[] {addr & mask, bits};
    }

    private static String dotted(long a) {
        return (a >> 24 & 255) + "." + (a >> 16 & 255) + "." + (a >> 8 & 255) + "." + (a & 255);
    }
}
