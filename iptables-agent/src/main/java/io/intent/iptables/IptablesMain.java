package io.intent.iptables;

import io.intent.store.config.AgentOptions;
import io.intent.store.config.ConfigDefaults;
import io.intent.store.converge.AgentRuntime;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code iptables-agent}: opens this host's assigned app ports in intent's own chain, applied atomically. */
@Command(name = "iptables-agent", mixinStandardHelpOptions = true,
        description = "Keeps intent's iptables chain equal to the ports of the apps assigned to this host.")
public final class IptablesMain implements Callable<Integer> {
    @Mixin
    AgentOptions options = new AgentOptions();

    @Option(names = "--backend", paramLabel = "iptables|file", defaultValue = IptablesSettings.FILE,
            description = "iptables: the kernel's tables (needs root); file: a rules file (local dev). "
                    + "Default: ${DEFAULT-VALUE}")
    String backend;

    @Option(names = "--chain", paramLabel = "NAME", defaultValue = ChainRenderer.DEFAULT_CHAIN,
            description = "intent's own chain, jumped to from INPUT. Default: ${DEFAULT-VALUE}")
    String chain;

    @Option(names = "--rules-file", paramLabel = "FILE",
            description = "the file backend's rules file. Default: <root>/iptables/rules")
    Path rulesFile;

    @Option(names = "--command-prefix", paramLabel = "WORDS",
            description = "words run before every iptables command, e.g. 'ip netns exec NS'")
    String commandPrefix;

    @Option(names = "--iptables", paramLabel = "COMMAND", defaultValue = "iptables",
            description = "iptables command family (iptables, iptables-legacy, iptables-nft); -save and -restore"
                    + " are appended. Default: ${DEFAULT-VALUE}")
    String iptables;

    private final AtomicReference<IptablesReconciler> reconciler = new AtomicReference<>();

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new IptablesMain())
                .setDefaultValueProvider(ConfigDefaults.from(args, System.getenv()));
        System.exit(cl.execute(args));
    }

    /** The settings the flags describe. */
    public IptablesSettings settings() {
        List<String> prefix = commandPrefix == null || commandPrefix.isBlank() ? List.of()
                : Arrays.asList(commandPrefix.strip().split("\\s+"));
        return new IptablesSettings(backend, chain, rulesFile, prefix, iptables, null, null);
    }

    /** Starts the agent and returns; {@link AgentRuntime#close()} and {@link #reconciler()} close stop it. */
    public AgentRuntime start() {
        IptablesSettings settings = settings();
        return AgentRuntime.start(options, IptablesReconciler.AGENT, List.of(ctx -> {
            IptablesReconciler r = IptablesReconciler.create(ctx, settings);
            reconciler.set(r);
            return r;
        }));
    }

    /** The running reconciler, once {@link #start()} has built it. */
    public IptablesReconciler reconciler() {
        return reconciler.get();
    }

    @Override
    public Integer call() throws Exception {
        try (AgentRuntime runtime = start()) {
            runtime.runUntilSignalled();
        } finally {
            IptablesReconciler r = reconciler.get();
            if (r != null) {
                r.close();
            }
        }
        return 0;
    }
}
