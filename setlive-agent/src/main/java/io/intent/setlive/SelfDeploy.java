package io.intent.setlive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The node's own app: an app named {@value #APP} is intent-node itself, its artifact an intent release
 * ({@code bin/intent-node} and {@code lib/}), run by runit like any app. setlive switches it like any app, but
 * never stops the process it runs in: it swaps {@code current}, rewrites the run script and has runit restart
 * the node, which then finishes (or rolls back) the switch from the {@link PendingSwitch} on disk. While such a
 * switch is in flight, {@code services/intent-node/fallback} names the last healthy version: the run script
 * goes back to it by itself when the new build fails to start {@value #FAILED_STARTS} times in a row, because
 * then no node runs to roll it back (see docs/self-deploy.md).
 */
final class SelfDeploy {
    /** The reserved app name of the node itself. */
    static final String APP = "intent-node";
    /** In the node's service dir: the version to go back to while a switch of the node is in flight. */
    static final String FALLBACK = "fallback";
    /** In the node's service dir: how often the run script started since the switch began. */
    static final String STARTS = "starts";
    /** Starts of a new build after which the run script goes back to the fallback version. */
    static final int FAILED_STARTS = 3;

    private SelfDeploy() {
    }

    static boolean isNode(String app) {
        return APP.equals(app);
    }

    /** True when {@code instance} is this very process: the node supervised under runit, replacing itself. */
    static boolean isThisProcess(AppRuntime.Instance instance) {
        return instance.up() && instance.pid() == ProcessHandle.current().pid();
    }

    /** Arms the run script's watchdog: {@code version} is where it goes back to; the start count restarts. */
    static void armFallback(Path serviceDir, String version) throws IOException {
        Files.deleteIfExists(serviceDir.resolve(STARTS));
        AtomicFiles.writeAtomically(serviceDir.resolve(FALLBACK), (version + "\n").getBytes(StandardCharsets.UTF_8),
                false);
    }

    /** Disarms the watchdog (the switch is over, or the node itself rolls back). */
    static void disarm(Path serviceDir) throws IOException {
        Files.deleteIfExists(serviceDir.resolve(FALLBACK));
        Files.deleteIfExists(serviceDir.resolve(STARTS));
    }

    /**
     * The run script's prelude for the node: while {@code fallback} exists, counts starts, and past
     * {@link #FAILED_STARTS} points {@code current} back at the fallback version (atomically, by rename) before
     * the exec below runs it.
     */
    static String watchdog(Path serviceDir, Path current, Path installs) {
        String svc = RunScript.quote(serviceDir.toString());
        String tmp = RunScript.quote(current.resolveSibling(".current-fallback").toString());
        String cur = RunScript.quote(current.toString());
        String rel = RunScript.quote(current.getParent().relativize(installs).toString());
        return "# the node's watchdog: a new build that does not start " + FAILED_STARTS + " times in a row goes back to"
                + " the version in 'fallback'\n"
                + "svc=" + svc + "\n"
                + "if [ -f \"$svc/" + FALLBACK + "\" ]; then\n"
                + "  n=$(( $(cat \"$svc/" + STARTS + "\" 2>/dev/null || echo 0) + 1 ))\n"
                + "  echo \"$n\" > \"$svc/" + STARTS + "\"\n"
                + "  if [ \"$n\" -gt " + FAILED_STARTS + " ]; then\n"
                + "    v=$(cat \"$svc/" + FALLBACK + "\")\n"
                + "    ln -sfn " + rel + "/\"$v\" " + tmp + " && mv -Tf " + tmp + " " + cur + "\n"
                + "    rm -f \"$svc/" + FALLBACK + "\" \"$svc/" + STARTS + "\"\n"
                + "    echo \"intent-node: the new build did not start $((n - 1)) times; went back to $v\"\n"
                + "  fi\n"
                + "fi\n";
    }
}
