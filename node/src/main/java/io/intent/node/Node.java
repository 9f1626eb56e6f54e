package io.intent.node;

import io.intent.iptables.IptablesOptions;
import io.intent.iptables.IptablesReconciler;
import io.intent.preparer.PreparerAgent;
import io.intent.preparer.PreparerOptions;
import io.intent.setlive.Setlive;
import io.intent.setlive.SetliveOptions;
import io.intent.agent.config.AgentOptions;
import io.intent.agent.converge.AgentRuntime;
import io.intent.agent.converge.Reconciler;
import io.intent.store.model.Assignment;
import java.util.List;
import java.util.function.Function;

/**
 * One host's three agents in one process: the preparer, the iptables agent and setlive, each its own
 * reconciler over the host's slice, sharing one etcd client, one etcd lease (the process's session, which the
 * liveness key, rollout requests and endpoints hang on) and one /metrics.
 * Lighter on a real host than three JVMs; each agent still runs standalone too.
 */
public final class Node implements AutoCloseable {
    /** The agent name this process registers its liveness with. */
    public static final String NAME = "node";

    private final AgentRuntime runtime;

    private Node(AgentRuntime runtime) {
        this.runtime = runtime;
    }

    /** Starts the three agents and returns; {@link #close()} stops them (apps keep running). */
    public static Node start(AgentOptions agent, PreparerOptions preparer, IptablesOptions iptables,
                             SetliveOptions setlive) {
        PreparerAgent prepare = PreparerAgent.factory(preparer.settings(agent.rootDir()));
        return new Node(AgentRuntime.start(agent, NAME, factories(prepare, iptables, setlive)));
    }

    /** The process's main: SIGTERM at any moment, start-up included, stops it gracefully (apps keep running). */
    public static void runUntilSignalled(AgentOptions agent, PreparerOptions preparer, IptablesOptions iptables,
                                         SetliveOptions setlive) throws InterruptedException {
        PreparerAgent prepare = PreparerAgent.factory(preparer.settings(agent.rootDir()));
        AgentRuntime.runUntilSignalled(agent, NAME, factories(prepare, iptables, setlive), rt -> { });
    }

    /**
     * {@code intent-node --once}: the three agents converge this host's slice once and exit (0 converged, 1 not,
     * {@link io.intent.agent.converge.AgentLock#HELD_EXIT_CODE} when a daemon runs them on this root).
     */
    public static int runOnce(AgentOptions agent, PreparerOptions preparer, IptablesOptions iptables,
                              SetliveOptions setlive) throws InterruptedException {
        PreparerAgent prepare = PreparerAgent.factory(preparer.settings(agent.rootDir()));
        return AgentRuntime.runOnce(agent, NAME, factories(prepare, iptables, setlive), rt -> { }, System.out);
    }

    private static List<Function<AgentRuntime.Context, Reconciler<Assignment>>> factories(
            PreparerAgent prepare, IptablesOptions iptables, SetliveOptions setlive) {
        return List.of(prepare, IptablesReconciler.factory(iptables.settings()), Setlive.agent(setlive.config()));
    }

    public AgentRuntime runtime() {
        return runtime;
    }

    @Override
    public void close() {
        // the kit closes each reconciler it runs: nothing else to close here
        runtime.close();
    }
}
