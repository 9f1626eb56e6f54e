package io.intent.node;

import static org.awaitility.Awaitility.await;

import io.intent.setlive.HealthProbe;
import io.intent.setlive.Runsvdir;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.testkit.Apps;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Prerequisites;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One simulated host for node process tests: a real etcd, the demo app's tarball, a sandbox root, real
 * {@code intent-node} JVMs on it, and the host's supervisor runsvdir started by the test, as its unit would.
 */
final class NodeFixture implements AutoCloseable {
    static final String HOST = "h1";
    static final String ADDR = "127.0.0.5";

    final EtcdCluster etcd;
    final EtcdStore store;
    final Path work;
    final Path root;
    final Path tarball;
    private final List<JvmProcess> nodes = new ArrayList<>();
    private Process supervisor;
    private int starts;

    NodeFixture() throws IOException {
        Prerequisites.require("etcd", "etcd-server");
        Prerequisites.require("runsvdir", "runit");
        Prerequisites.require("busybox", "busybox-static");
        Prerequisites.require("setsid", "util-linux");
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
        work = Files.createTempDirectory("node-test");
        root = work.resolve("root");
        tarball = DemoApp.tarball(work.resolve("demo-app.tar.gz"));
    }

    Path services() {
        return root.resolve("services");
    }

    /**
     * Starts {@code runsvdir -P <root>/services} from the test, outside any cgroup the node is put in: what
     * {@code etc/systemd/intent-runsvdir.service} runs on a real host. Returns its pid.
     */
    long startSupervisor() throws IOException {
        Files.createDirectories(services());
        supervisor = new ProcessBuilder("runsvdir", "-P", services().toString())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("runsvdir.log").toFile())).start();
        return supervisor.pid();
    }

    /** Starts an intent-node JVM for the host, behind {@code prefix} (e.g. a command joining a cgroup). */
    JvmProcess startNode(List<String> prefix, String runsvdirMode, String... more) {
        starts++;
        List<String> args = new ArrayList<>(List.of("--etcd", etcd.endpoint(0),
                "--host", HOST, "--address", ADDR, "--root", root.toString(), "--backend", "file",
                "--artifact-file-roots", tarball.getParent().toString(),
                "--runsvdir", runsvdirMode, "--resync", "2", "--liveness-ttl", "5", "--http-port", "-1",
                "--stop-timeout", "3"));
        args.addAll(List.of(more));
        JvmProcess node = JvmProcess.start(prefix, NodeMain.class.getName(), args, Map.of(),
                work.resolve("node-" + starts + ".log"));
        nodes.add(node);
        return node;
    }

    /** Runs {@code intent-node --once} to its end (at most {@code timeoutSeconds} + 30 s); returns the process. */
    JvmProcess runOnce(int timeoutSeconds) {
        JvmProcess once = startNode(List.of(), "external", "--once", "--once-timeout",
                Integer.toString(timeoutSeconds));
        if (!once.waitFor(timeoutSeconds + 30)) {
            throw new AssertionError("intent-node --once did not exit:\n" + once.output());
        }
        return once;
    }

    /** Assigns the demo app {@code app} (version 1.0) to the host, listening on {@code port}. */
    void assign(String app, int port) {
        AppIntent intent = Apps.app().version("1.0", tarball.toUri().toString(), DemoApp.sha256(tarball))
                .port("http", port).health("/healthz", "http", 15).build();
        store.put(store.keys().assignment(HOST, app), new Assignment(app, HOST, 1, intent));
    }

    /** Starts the supervisor and a node daemon, assigns the demo app {@code app} on {@code port}, awaits its answer. */
    JvmProcess startServing(String app, int port) throws IOException {
        startSupervisor();
        JvmProcess node = startNode(List.of(), "external");
        assign(app, port);
        awaitAnswers(port, node);
        return node;
    }

    /** What the app answers on its port (the demo app answers its version), or null when it does not. */
    static String body(int port) {
        String b = HealthProbe.httpBody(ADDR, port, "/");
        return b == null ? null : b.strip();
    }

    void awaitAnswers(int port, JvmProcess node) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .failFast("the node exited:\n" + node.output(), () -> !node.alive())
                .until(() -> "1.0".equals(body(port)));
    }

    /** The pid runsv reports for the app (its {@code supervise/pid}), or 0. */
    long appPid(String app) {
        try {
            String s = Files.readString(services().resolve(app).resolve("supervise/pid")).strip();
            return s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (IOException e) {
            return 0;
        }
    }

    Optional<AgentStatus> status(String app) {
        return store.get(store.keys().status(HOST, app, "setlive"), AgentStatus.class).map(e -> e.value());
    }

    boolean endpointPublished(String app) {
        return store.get(store.keys().endpoint(app, HOST), io.intent.store.model.Endpoint.class).isPresent();
    }

    @Override
    public void close() {
        nodes.forEach(JvmProcess::close);
        try {
            Runsvdir.shutdown(services(), root.resolve("setlive"), Duration.ofSeconds(3));
        } catch (IOException | RuntimeException e) {
            System.err.println("could not stop the apps under " + services() + ": " + e);
        }
        if (supervisor != null) {
            supervisor.destroyForcibly();
        }
        store.close();
        etcd.close();
        try (var paths = Files.walk(work)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir; the OS cleans it eventually
        }
    }
}
