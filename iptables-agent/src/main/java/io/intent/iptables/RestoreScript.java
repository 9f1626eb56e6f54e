package io.intent.iptables;

import java.util.Optional;

/**
 * The {@code iptables-restore --noflush} input that turns what the kernel has into what we want, touching only
 * our chain and our jump: declaring {@code :CHAIN - [0:0]} flushes just that chain under {@code --noflush},
 * the rules follow, and the jump from INPUT is inserted when missing or de-duplicated when repeated, all in
 * one atomic transaction. A pure function.
 */
public final class RestoreScript {
    private RestoreScript() {
    }

    /** The script that turns {@code actual} into {@code desired}, or empty when they already match. */
    public static Optional<String> between(ChainRules desired, ChainState actual) {
        if (!desired.chain().equals(actual.chain())) {
            throw new IllegalArgumentException("chain " + actual.chain() + " is not " + desired.chain());
        }
        if (!desired.hook().equals(actual.hook())) {
            throw new IllegalArgumentException("hook " + actual.hook() + " is not " + desired.hook());
        }
        return actual.matches(desired) ? Optional.empty()
                : Optional.of(script(desired, actual.jumps(), !actual.hookExists()));
    }

    /** The whole chain as a script for a table that has none of it (what the file backend stores). */
    public static String full(ChainRules desired) {
        return script(desired, 0, false);
    }

    private static String script(ChainRules desired, int jumps, boolean createHook) {
        String chain = desired.chain();
        StringBuilder sb = new StringBuilder(64 + desired.byApp().size() * 128);
        sb.append("*filter\n:").append(chain).append(" - [0:0]\n");
        if (createHook) {
            // DOCKER-USER before dockerd made it: dockerd keeps an existing DOCKER-USER and hooks it into
            // FORWARD when it starts. Declared only when absent, since under --noflush a declaration flushes it.
            sb.append(':').append(desired.hook()).append(" - [0:0]\n");
        }
        String jump = desired.hook() + " -j " + chain + "\n";
        if (jumps == 0) {
            sb.append("-I ").append(jump);
        }
        for (int i = 1; i < jumps; i++) {
            sb.append("-D ").append(jump);
        }
        for (String rule : desired.rules()) {
            sb.append(rule).append('\n');
        }
        return sb.append("COMMIT\n").toString();
    }
}
