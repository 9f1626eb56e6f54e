package io.intent.iptables;

import io.intent.agent.config.AgentOptions;
import io.intent.daemon.config.ConfigDefaults;
import io.intent.agent.converge.AgentRuntime;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code iptables-agent}: opens this host's assigned app ports in intent's own chain, applied atomically. */
@Command(name = "iptables-agent", mixinStandardHelpOptions = true,
        description = "Keeps intent's iptables chain equal to the ports of the apps assigned to this host.")
public final class IptablesMain implements Callable<Integer> {
    // picocli mixins, alike in every agent's main on purpose: each flag is declared once, in its options class
    @Mixin
    AgentOptions options = new AgentOptions();

    @Mixin
    IptablesOptions iptables = new IptablesOptions();

    public static void main(String[] args) {
        CommandLine cl = ConfigDefaults.install(new CommandLine(new IptablesMain()), args, System.getenv());
        System.exit(cl.execute(args));
    }

    /** Starts the agent and returns; {@link AgentRuntime#close()} stops it (the kit closes the reconciler). */
    public AgentRuntime start() {
        return AgentRuntime.start(options, IptablesReconciler.AGENT,
                List.of(IptablesReconciler.factory(iptables.settings())));
    }

    @Override
    public Integer call() throws Exception {
        try {
            iptables.settings();
        } catch (IllegalArgumentException e) {
            System.err.println("iptables-agent: " + e.getMessage());
            return 2;
        }
        // the converger closes the reconciler when the runtime stops
        if (options.once) {
            return AgentRuntime.runOnce(options, IptablesReconciler.AGENT, List.of(IptablesReconciler.factory(iptables.settings())),
                    rt -> { }, System.out);
        }
        AgentRuntime.runUntilSignalled(options, IptablesReconciler.AGENT, List.of(IptablesReconciler.factory(iptables.settings())),
                rt -> { });
        return 0;
    }
}
