package io.intent.preparer;

import static io.intent.preparer.Intents.HOST;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.intent.agent.InstallLayout;
import io.intent.store.KeyLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;

/**
 * One preparer under test against a real etcd, with its own key root and sandbox root: starts it in this
 * JVM or as a separate JVM, writes assignments, reads statuses. Closing stops everything it started.
 */
final class AgentHarness implements AutoCloseable {
    final EtcdStore store;
    final KeyLayout keys;
    final InstallLayout layout;
    private final EtcdCluster etcd;
    private final String keyRoot;
    private final Path dir;
    private final List<Runnable> stops = new ArrayList<>();

    AgentHarness(EtcdCluster etcd, Path dir, String keyRoot) {
        this.etcd = etcd;
        this.dir = dir;
        this.keyRoot = keyRoot;
        this.store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot(keyRoot));
        this.keys = store.keys();
        this.layout = new InstallLayout(dir.resolve("root"));
    }

    private List<String> args(String... extra) {
        List<String> args = new ArrayList<>(List.of("--etcd", String.join(",", etcd.endpoints()), "--key-root",
                keyRoot, "--host", HOST, "--root", layout.root().toString(), "--http-port", "-1", "--resync", "1",
                "--artifact-file-roots", repo().toString()));
        args.addAll(List.of(extra));
        return args;
    }

    /** The one directory {@code file://} artifacts may come from ({@code --artifact-file-roots}). */
    Path repo() {
        try {
            return java.nio.file.Files.createDirectories(dir.resolve("repo"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Starts the agent in this JVM, configured by flags like the real one. */
    void start(String... extra) {
        PreparerMain main = new PreparerMain();
        new CommandLine(main).parseArgs(args(extra).toArray(String[]::new));
        AgentRuntime runtime = main.start();
        stops.add(runtime::close);
    }

    /** Starts the agent as a separate JVM (PreparerMain), which a test may kill -9. */
    JvmProcess startJvm(String... extra) {
        JvmProcess p = JvmProcess.start(PreparerMain.class, args(extra), Map.of(), dir.resolve("agent.log"));
        stops.add(p::close);
        return p;
    }

    void assign(Assignment a) {
        store.put(keys.assignment(HOST, a.app()), a);
    }

    Optional<AgentStatus> status(String app) {
        return store.get(keys.status(HOST, app, Preparer.AGENT), AgentStatus.class).map(e -> e.value());
    }

    AgentStatus awaitPhase(String app, Phase phase, Duration wait) {
        AgentStatus[] out = new AgentStatus[1];
        await().atMost(wait).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            AgentStatus s = status(app).orElseThrow(() -> new AssertionError("no status for " + app));
            assertEquals(phase, s.phase(), s.message());
            out[0] = s;
        });
        return out[0];
    }

    @Override
    public void close() {
        for (int i = stops.size() - 1; i >= 0; i--) {
            stops.get(i).run();
        }
        store.close();
    }
}
