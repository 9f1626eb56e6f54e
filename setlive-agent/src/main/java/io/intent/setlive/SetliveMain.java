package io.intent.setlive;

import io.intent.agent.config.AgentOptions;
import io.intent.daemon.config.ConfigDefaults;
import io.intent.agent.converge.AgentRuntime;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The setlive agent's process: {@code setlive --host h1 --address 127.0.0.2 --root DIR --etcd URL}. */
@Command(name = "setlive", mixinStandardHelpOptions = true,
        description = "Switches each assigned app's active version live on this host, atomically, and keeps it"
                + " running under runit or Docker.")
public final class SetliveMain implements Callable<Integer> {
    @Mixin
    AgentOptions agent = new AgentOptions();

    @Mixin
    SetliveOptions setlive = new SetliveOptions();

    public static void main(String[] args) {
        System.exit(ConfigDefaults.install(new CommandLine(new SetliveMain()), args, System.getenv()).execute(args));
    }

    /** Parses {@code args} (with env and config-file defaults) into a ready-to-start agent. */
    public static SetliveMain parse(String... args) {
        SetliveMain m = new SetliveMain();
        ConfigDefaults.install(new CommandLine(m), args, System.getenv()).parseArgs(args);
        return m;
    }

    public SetliveConfig config() {
        return setlive.config();
    }

    /** Starts the agent and returns; close the runtime to stop it (apps keep running). */
    public AgentRuntime start() {
        return AgentRuntime.start(agent, "setlive", List.of(Setlive.agent(config())));
    }

    @Override
    public Integer call() throws Exception {
        if (agent.once) {
            return AgentRuntime.runOnce(agent, "setlive", List.of(Setlive.agent(config())), rt -> { }, System.out);
        }
        AgentRuntime.runUntilSignalled(agent, "setlive", List.of(Setlive.agent(config())), rt -> { });
        return 0;
    }
}
