package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A setlive agent running in the test's JVM on one simulated host of its own {@link SetliveFixture} (real etcd,
 * real runit), restartable like a real agent; closing it stops the agent, its host's runsvdir and apps, and etcd.
 */
final class InProcessAgent implements AutoCloseable {
    final SetliveFixture fx;
    final String host;
    final String address;
    final Path root;
    final InstallLayout layout;
    /** Further agent options (e.g. {@code --docker-host}), given at every start. */
    private final String[] extra;
    private AgentRuntime agent;

    InProcessAgent(String host, String address, String... extra) throws Exception {
        this.extra = extra.clone();
        this.fx = new SetliveFixture();
        this.host = host;
        this.address = address;
        this.root = fx.work.resolve("root-" + host);
        this.layout = new InstallLayout(root);
        this.agent = start();
    }

    /** The agent with the default number of converge workers, a 30 s lease, a 3 s stop timeout and the extras. */
    private AgentRuntime start() throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--etcd", fx.etcd.endpoint(0),
                "--host", host, "--address", address, "--root", root.toString(), "--http-port", "-1",
                "--stop-timeout", "3", "--liveness-ttl", "30"));
        args.addAll(java.util.List.of(extra));
        return SetliveMain.parse(args.toArray(String[]::new)).start();
    }

    /** Stops the agent gracefully (apps keep running) and starts a new one on the same root. */
    void restart() throws Exception {
        agent.close();
        agent = null;
        agent = start();
    }

    @Override
    public void close() throws Exception {
        if (agent != null) {
            agent.close();
        }
        Runsvdir.shutdown(layout.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(3));
        fx.close();
    }
}
