package io.intent.iptables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the kernel (or the rules file) holds of intent's chain, parsed from {@code iptables-save -t filter}
 * output: whether the chain exists, its rule lines in order, and how many times INPUT jumps to it exactly.
 * Everything else in the output is someone else's and is ignored. A pure parser.
 *
 * @param chain  our chain's name
 * @param exists whether the chain is declared
 * @param rules  its rule lines, normalised ({@code -A CHAIN ...})
 * @param jumps  how many plain {@code -A HOOK -j CHAIN} rules there are
 * @param hook   the chain that jumps to ours ({@code INPUT}, {@code DOCKER-USER})
 * @param hookExists whether the hook chain exists (INPUT always; DOCKER-USER once dockerd or we made it)
 */
public record ChainState(String chain, boolean exists, List<String> rules, int jumps, String hook,
                         boolean hookExists) {
    private static final Pattern UNQUOTED_COMMENT = Pattern.compile("--comment ([^\" ]+)");
    private static final Pattern APP = Pattern.compile("--comment \"" + Pattern.quote(ChainRenderer.COMMENT_PREFIX)
            + "([a-z0-9-]+)[ \"]");

    public ChainState {
        rules = List.copyOf(rules);
    }

    /** The state of a chain hooked into INPUT. */
    public ChainState(String chain, boolean exists, List<String> rules, int jumps) {
        this(chain, exists, rules, jumps, ChainRenderer.HOOK, true);
    }

    /** The state of a table that has never seen intent: no chain, no jump. */
    public static ChainState absent(String chain) {
        return absent(chain, ChainRenderer.HOOK);
    }

    /** No chain and no jump from {@code hook}, which exists only when it is built in. */
    public static ChainState absent(String chain, String hook) {
        return new ChainState(chain, false, List.of(), 0, hook, ChainRenderer.HOOK.equals(hook));
    }

    /** This state, saying the hook chain exists (a rules file holds no other chain, so it cannot say). */
    public ChainState withHookExisting() {
        return new ChainState(chain, exists, rules, jumps, hook, true);
    }

    /**
     * Parses the filter table of {@code save} (the output of {@code iptables-save -t filter}, or a rules file
     * in restore format, where the jump is an {@code -I INPUT -j CHAIN}).
     */
    public static ChainState parse(String chain, String save) {
        return parse(chain, ChainRenderer.HOOK, save);
    }

    /** Like {@link #parse(String, String)} for a chain jumped to from {@code hook}. */
    public static ChainState parse(String chain, String hook, String save) {
        String decl = ":" + chain + " ";
        String hookDecl = ":" + hook + " ";
        String ours = "-A " + chain + " ";
        String jumpA = "-A " + hook + " -j " + chain;
        String jumpI = "-I " + hook + " -j " + chain;
        boolean inFilter = false;
        boolean exists = false;
        boolean hookExists = ChainRenderer.HOOK.equals(hook);
        int jumps = 0;
        List<String> rules = new ArrayList<>();
        for (String raw : save.split("\n")) {
            String line = raw.strip();
            if (line.startsWith("*")) {
                inFilter = line.equals("*filter");
                continue;
            }
            if (!inFilter || line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith(decl)) {
                exists = true;
            } else if (line.startsWith(hookDecl)) {
                hookExists = true;
            } else if (line.startsWith(ours)) {
                rules.add(normalise(line));
            } else if (line.equals(jumpA) || line.equals(jumpI)) {
                jumps++;
            }
        }
        return new ChainState(chain, exists || !rules.isEmpty(), rules, jumps, hook, hookExists);
    }

    // iptables-legacy may print a one-word comment unquoted; nft always quotes. Compare one form.
    static String normalise(String line) {
        int at = line.indexOf("--comment ");
        if (at < 0 || at + 10 >= line.length() || line.charAt(at + 10) == '"') {
            return line; // the common case, checked without a regex: 10k rules are parsed on every resync
        }
        Matcher m = UNQUOTED_COMMENT.matcher(line);
        return m.find() ? m.replaceFirst("--comment \"$1\"") : line;
    }

    /** The chain's rules grouped by the app named in their comment; rules without our comment are left out. */
    public Map<String, List<String>> rulesByApp() {
        Map<String, List<String>> byApp = new LinkedHashMap<>();
        for (String r : rules) {
            Matcher m = APP.matcher(r);
            if (m.find()) {
                byApp.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(r);
            }
        }
        return byApp;
    }

    /** The apps that have rules in the chain. */
    public Set<String> apps() {
        return new TreeSet<>(rulesByApp().keySet());
    }

    /** True when the chain holds exactly {@code desired} and INPUT jumps to it exactly once. */
    public boolean matches(ChainRules desired) {
        return exists && hookExists && jumps == 1 && rules.equals(desired.rules());
    }
}
