package io.intent.node;

import io.intent.iptables.IptablesOptions;
import io.intent.preparer.PreparerOptions;
import io.intent.setlive.SetliveOptions;
import io.intent.agent.config.AgentOptions;
import io.intent.daemon.config.ConfigDefaults;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code intent-node}: runs this host's preparer, iptables and setlive agents in one JVM. */
@Command(name = "intent-node", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs one host's three agents in one process: the preparer (fetch, verify, unpack every "
                + "assigned version), the iptables agent (open assigned ports in intent's chain) and setlive (switch "
                + "the live version and keep it running). Every option is also INTENT_<OPTION> or a --config key.")
public final class NodeMain implements Callable<Integer> {
    // picocli mixins, alike in every agent's main on purpose: each flag is declared once, in its options class
    @Mixin
    AgentOptions agent = new AgentOptions();

    @Mixin
    PreparerOptions preparer = new PreparerOptions();

    @Mixin
    IptablesOptions iptables = new IptablesOptions();

    @Mixin
    SetliveOptions setlive = new SetliveOptions();

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new NodeMain());
        ConfigDefaults.install(cl, args, System.getenv());
        System.exit(cl.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (agent.once) {
            return Node.runOnce(agent, preparer, iptables, setlive);
        }
        Node.runUntilSignalled(agent, preparer, iptables, setlive);
        return 0;
    }
}
