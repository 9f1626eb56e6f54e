package io.intent.preparer;

import io.intent.agent.config.AgentOptions;
import io.intent.daemon.config.ConfigDefaults;
import io.intent.agent.converge.AgentRuntime;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code preparer-agent}: prepares every version assigned to this host (see docs/preparer.md). */
@Command(name = "preparer-agent", mixinStandardHelpOptions = true,
        description = "Fetches, verifies and unpacks every version assigned to this host, crash-safe.")
public final class PreparerMain implements Callable<Integer> {
    // picocli mixins, alike in every agent's main on purpose: each flag is declared once, in its options class
    @Mixin
    AgentOptions agent = new AgentOptions();

    @Mixin
    PreparerOptions preparer = new PreparerOptions();

    private PreparerAgent factory;

    /** Starts the agent and returns its runtime (the caller closes it; that closes the preparer too). */
    public AgentRuntime start() {
        factory = PreparerAgent.factory(preparer.settings(agent.rootDir()));
        return AgentRuntime.start(agent, Preparer.AGENT, List.of(factory));
    }

    public PreparerAgent factory() {
        return factory;
    }

    @Override
    public Integer call() throws Exception {
        factory = PreparerAgent.factory(preparer.settings(agent.rootDir()));
        if (agent.once) {
            return AgentRuntime.runOnce(agent, Preparer.AGENT, List.of(factory), rt -> { }, System.out);
        }
        AgentRuntime.runUntilSignalled(agent, Preparer.AGENT, List.of(factory), rt -> { });
        return 0;
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new PreparerMain());
        ConfigDefaults.install(cl, args, System.getenv());
        System.exit(cl.execute(args));
    }
}
