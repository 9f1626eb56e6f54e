package io.intent.agent.converge;

import io.intent.agent.config.AgentOptions;
import io.intent.daemon.config.ConfigDefaults;
import java.nio.file.Files;
import java.util.List;
import picocli.CommandLine;

/** A real agent process around the test's file reconciler, to SIGTERM and SIGKILL in tests. */
public final class FileAgentMain {
    private FileAgentMain() {
    }

    public static void main(String[] args) throws Exception {
        AgentOptions opts = new AgentOptions();
        ConfigDefaults.install(new CommandLine(opts), args, System.getenv()).parseArgs(args);
        Files.createDirectories(opts.rootDir());
        ConvergerTest.FileReconciler reconciler = new ConvergerTest.FileReconciler(opts.rootDir());
        reconciler.sleepMillis = Long.parseLong(System.getenv().getOrDefault("RECONCILE_SLEEP_MS", "0"));
        AgentRuntime.runUntilSignalled(opts, "files", List.of(ctx -> reconciler), rt -> { });
    }
}
