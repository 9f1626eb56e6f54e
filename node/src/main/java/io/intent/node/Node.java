package io.intent.node;

import io.intent.iptables.IptablesOptions;
import io.intent.iptables.IptablesReconciler;
import io.intent.preparer.PreparerAgent;
import io.intent.preparer.PreparerOptions;
import io.intent.setlive.Setlive;
import io.intent.setlive.SetliveOptions;
import io.intent.store.config.AgentOptions;
import io.intent.store.converge.AgentRuntime;
import java.util.List;

/**
 * One host's three agents in one process: the preparer, the iptables agent and setlive, each its own
 * reconciler over the host's slice, sharing one etcd client, one liveness lease and one /metrics.
 * Lighter on a real host than three JVMs; each agent still runs standalone too.
 */
public final class Node implements AutoCloseable {
    /** The agent name this process registers its liveness with. */
    public static final String NAME = "node";

    private final AgentRuntime runtime;
    private final PreparerAgent preparer;

    private Node(AgentRuntime runtime, PreparerAgent preparer) {
        this.runtime = runtime;
        this.preparer = preparer;
    }

    /** Starts the three agents and returns; {@link #close()} stops them (apps keep running). */
    public static Node start(AgentOptions agent, PreparerOptions preparer, IptablesOptions iptables,
                             SetliveOptions setlive) {
        PreparerAgent prepare = PreparerAgent.factory(preparer.settings(agent.rootDir()));
        AgentRuntime runtime = AgentRuntime.start(agent, NAME, List.of(prepare,
                IptablesReconciler.factory(iptables.settings()), Setlive.agent(setlive.config())));
        prepare.attach(runtime);
        return new Node(runtime, prepare);
    }

    public AgentRuntime runtime() {
        return runtime;
    }

    /** Blocks until SIGTERM, then shuts down gracefully. */
    public void runUntilSignalled() throws InterruptedException {
        runtime.runUntilSignalled();
        preparer.close();
    }

    @Override
    public void close() {
        runtime.close();
        preparer.close();
    }
}
