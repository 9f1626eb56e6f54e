package io.intent.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.dispatcher.HostSteward;
import io.intent.setlive.HealthProbe;
import io.intent.setlive.Runsvdir;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.Apps;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import io.intent.testkit.Prerequisites;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Self-deploy end to end on two simulated hosts (real etcd, a runsvdir per host as intent-runsvdir.service runs
 * it, real node JVMs started by runit from intent release tarballs): a kickstart with {@code intent-node --once},
 * then the node of every host upgraded from build A to build B and back through the {@code intent-node} app, and
 * a broken build rolled back by itself; the apps keep their pids and a client polling them sees no failed request.
 */
class SelfDeployTest {
    static final List<String> HOSTS = List.of("h1", "h2");
    static final Map<String, String> ADDR = Map.of("h1", "127.0.0.5", "h2", "127.0.0.6");
    static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void everyHostsNodeIsUpgradedAndBackThroughIntentAndABrokenBuildRollsBackWhileAppsServe() throws Exception {
        Prerequisites.require("etcd", "etcd-server");
        Prerequisites.require("runsvdir", "runit");
        Path work = Files.createTempDirectory("self-deploy");
        List<Process> supervisors = new ArrayList<>();
        List<JvmProcess> once = new ArrayList<>();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             HostSteward steward = HostSteward.follow(store)) {
            // the leader's part that grants rollout slots
            String fenceKey = store.keys().election() + "/test";
            store.put(fenceKey, Map.of("leader", "test"));
            steward.lead(new Fence(fenceKey, store.get(fenceKey, Object.class).orElseThrow().createRevision()));

            Path releases = Files.createDirectories(work.resolve("releases"));
            Path a = release(releases.resolve("intent-node-A.tar"), "A", false);
            Path b = release(releases.resolve("intent-node-B.tar"), "B", false);
            Path broken = release(releases.resolve("intent-node-C.tar"), "C", true);
            Path demo = DemoApp.tarball(releases.resolve("demo-app.tar.gz"));
            int webPort = Ports.free();
            int nodePort = Ports.free();
            Map<String, Path> roots = new LinkedHashMap<>();
            for (String h : HOSTS) {
                Path root = work.resolve(h);
                roots.put(h, root);
                Path config = work.resolve(h + "-node.yaml");
                Files.writeString(config, String.join("\n",
                        "etcd: [" + etcd.endpoint(0) + "]", "host: " + h, "address: " + ADDR.get(h),
                        "root: " + root, "backend: file", "artifact-file-roots: [" + releases + "]",
                        "runsvdir: external", "resync: 2", "liveness-ttl: 5", "http-address: " + ADDR.get(h),
                        "http-port: " + nodePort, "stop-timeout: 3", ""));
                // intent-runsvdir.service
                Files.createDirectories(root.resolve("services"));
                supervisors.add(new ProcessBuilder("runsvdir", "-P", root.resolve("services").toString())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(h + "-runsvdir.log").toFile()))
                        .start());
                assignWeb(store, h, demo, webPort);
            }
            Map<String, VersionSpec> builds = Map.of(
                    "A", new VersionSpec(a.toUri().toString(), DemoApp.sha256(a), null, VersionSpec.TAR),
                    "B", new VersionSpec(b.toUri().toString(), DemoApp.sha256(b), null, VersionSpec.TAR),
                    "C", new VersionSpec(broken.toUri().toString(), DemoApp.sha256(broken), null, VersionSpec.TAR));
            AtomicInteger revision = new AtomicInteger(1);
            deployNode(store, builds, "A", nodePort, revision.getAndIncrement());

            // the kickstart: intent-node --once installs build A and starts it under runit, then exits
            for (String h : HOSTS) {
                JvmProcess k = JvmProcess.start(NodeMain.class, List.of("--config",
                        work.resolve(h + "-node.yaml").toString(), "--once", "--once-timeout", "60"), Map.of(),
                        work.resolve(h + "-kickstart.log"));
                once.add(k);
                assertTrue(k.waitFor(90), "kickstart did not end:\n" + k.output());
                assertEquals(0, k.exitCode(), k.output());
            }
            for (String h : HOSTS) {
                awaitNode(store, roots.get(h), h, "A", nodePort);
                await().atMost(WAIT).until(() -> "1.0".equals(body(h, webPort)));
            }
            Map<String, Long> webPids = new LinkedHashMap<>();
            HOSTS.forEach(h -> webPids.put(h, pid(roots.get(h), "web")));

            try (Poller poll1 = new Poller("h1", webPort); Poller poll2 = new Poller("h2", webPort)) {
                for (String to : List.of("B", "A")) {
                    Map<String, Long> before = new LinkedHashMap<>();
                    HOSTS.forEach(h -> before.put(h, pid(roots.get(h), SelfDeployNames.NODE)));
                    deployNode(store, builds, to, nodePort, revision.getAndIncrement());
                    for (String h : HOSTS) {
                        awaitNode(store, roots.get(h), h, to, nodePort);
                        assertTrue(pid(roots.get(h), SelfDeployNames.NODE) != before.get(h), h + ": a new node process");
                    }
                }

                // build C exits at once: its run script goes back to A after 3 failed starts, A reports the failure
                Map<String, Long> before = new LinkedHashMap<>();
                HOSTS.forEach(h -> before.put(h, pid(roots.get(h), SelfDeployNames.NODE)));
                deployNode(store, builds, "C", nodePort, revision.getAndIncrement());
                for (String h : HOSTS) {
                    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> nodeStatus(store, h)
                            .filter(s -> s.phase() == Phase.FAILED && s.message().contains("went back to A"))
                            .isPresent());
                    assertTrue(runningBuild(roots.get(h)).endsWith("/A"), h + " runs " + runningBuild(roots.get(h)));
                    assertEquals("A", currentBuild(roots.get(h)));
                    // node A writes that status in its first reconcile of the app; it is ready once that pass ends
                    await().atMost(Duration.ofSeconds(30)).until(() -> ready(h, nodePort));
                }
                // the operator goes back to A: converged again, no restart needed
                deployNode(store, builds, "A", nodePort, revision.getAndIncrement());
                for (String h : HOSTS) {
                    await().atMost(WAIT).until(() -> nodeStatus(store, h).filter(s -> s.phase() == Phase.READY
                            && "A".equals(s.version())).isPresent());
                }
                poll1.close();
                poll2.close();
                assertEquals(List.of(), poll1.failures, "h1: requests failed while its node was replaced");
                assertEquals(List.of(), poll2.failures, "h2: requests failed while its node was replaced");
                assertTrue(poll1.requests.get() > 100 && poll2.requests.get() > 100);
                System.out.println("requests answered during the node upgrades: " + poll1.requests.get() + " + "
                        + poll2.requests.get());
            }
            for (String h : HOSTS) {
                assertEquals(webPids.get(h), pid(roots.get(h), "web"), h + ": the app kept its process");
            }
        } finally {
            once.forEach(JvmProcess::close);
            for (String h : HOSTS) {
                try {
                    Runsvdir.shutdown(work.resolve(h).resolve("services"), work.resolve(h).resolve("setlive"),
                            Duration.ofSeconds(5));
                } catch (IOException | RuntimeException e) {
                    System.err.println(h + ": could not stop the services: " + e);
                }
            }
            supervisors.forEach(Process::destroyForcibly);
            try (Stream<Path> paths = Files.walk(work)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Names of the self-deploy app, as the operator writes them. */
    static final class SelfDeployNames {
        static final String NODE = "intent-node";
    }

    private static void assignWeb(EtcdStore store, String host, Path demo, int port) {
        AppIntent web = Apps.app().version("1.0", demo.toUri().toString(), DemoApp.sha256(demo)).port("http", port)
                .scale(2).health("/healthz", "http", 15).build();
        store.put(store.keys().assignment(host, "web"), new Assignment("web", host, 1, web));
    }

    /** The operator's intent-node app with build {@code active}, assigned to every host (as the dispatcher would). */
    private static void deployNode(EtcdStore store, Map<String, VersionSpec> builds, String active, int port,
                                   long revision) {
        AppIntent node = Apps.app().versions(builds).active(active).command("bin/intent-node").port("readyz", port)
                .scale(HOSTS.size()).health("/readyz", "readyz", 40).maxUnavailable(1).build();
        for (String h : HOSTS) {
            store.put(store.keys().assignment(h, SelfDeployNames.NODE),
                    new Assignment(SelfDeployNames.NODE, h, revision, node));
        }
    }

    private static void awaitNode(EtcdStore store, Path root, String host, String build, int port) {
        try {
            await().atMost(WAIT).pollInterval(Duration.ofMillis(200))
                    .until(() -> nodeStatus(store, host).filter(s -> s.phase() == Phase.READY
                            && build.equals(s.version()) && !s.message().contains("one-shot")).isPresent()
                            && runningBuild(root).endsWith("/" + build) && ready(host, port));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("node of " + host + " not READY on " + build + "; status " + nodeStatus(store,
                    host) + ", running " + runningBuild(root) + "\nnode log:\n"
                    + tail(root.resolve("setlive/logs/intent-node.log")), e);
        }
    }

    private static java.util.Optional<AgentStatus> nodeStatus(EtcdStore store, String host) {
        return store.get(store.keys().status(host, SelfDeployNames.NODE, "setlive"), AgentStatus.class)
                .map(e -> e.value());
    }

    private static boolean ready(String host, int port) {
        return HealthProbe.httpBody(ADDR.get(host), port, "/readyz") != null;
    }

    static String body(String host, int port) {
        String b = HealthProbe.httpBody(ADDR.get(host), port, "/");
        return b == null ? null : b.strip();
    }

    private static long pid(Path root, String app) {
        try {
            String s = Files.readString(root.resolve("services").resolve(app).resolve("supervise/pid")).strip();
            return s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The install dir the node that runit supervises runs from (from its java command line), or "". */
    private static String runningBuild(Path root) {
        long pid = pid(root, SelfDeployNames.NODE);
        try {
            String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
            int lib = cmd.indexOf("/lib/*");
            return lib < 0 ? "" : cmd.substring(cmd.lastIndexOf(' ', lib) + 1, lib);
        } catch (IOException e) {
            return "";
        }
    }

    private static String currentBuild(Path root) throws IOException {
        return Files.readSymbolicLink(root.resolve("apps/intent-node/current")).getFileName().toString();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(none: " + e.getMessage() + ")";
        }
    }

    /**
     * An intent release as {@code ./intent release} makes it (uncompressed here, to keep the test fast): the
     * shipped launcher as bin/intent-node and this build's classpath as lib/*.jar; a broken one exits at once.
     */
    static Path release(Path out, String build, boolean broken) throws IOException {
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(out))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            byte[] launcher = broken ? "#!/bin/sh\necho 'broken build: exits at start'\nexit 1\n"
                    .getBytes(StandardCharsets.UTF_8) : Files.readAllBytes(Path.of("..", "etc", "release", "bin",
                    "intent-node"));
            put(tar, "bin/intent-node", launcher, 0755);
            put(tar, "BUILD", (build + "\n").getBytes(StandardCharsets.UTF_8), 0644);
            if (!broken) {
                int i = 0;
                for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                    Path p = Path.of(entry);
                    if (entry.contains("test-classes") || !Files.exists(p)) {
                        continue;
                    }
                    byte[] jar = Files.isDirectory(p) ? jarOf(p) : Files.readAllBytes(p);
                    put(tar, "lib/" + (i++) + "-" + p.getFileName() + (Files.isDirectory(p) ? ".jar" : ""), jar, 0644);
                }
            }
        }
        return out;
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] bytes, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(bytes.length);
        e.setMode(mode);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    private static byte[] jarOf(Path dir) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(bytes); Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                jar.putNextEntry(new JarEntry(dir.relativize(f).toString()));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A client asking one host's app for its page every 20 ms, keeping every request that failed. */
    static final class Poller implements AutoCloseable {
        final AtomicInteger requests = new AtomicInteger();
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Poller(String host, int port) {
            long t0 = System.nanoTime();
            thread = new Thread(() -> {
                while (running.get()) {
                    String b = body(host, port);
                    requests.incrementAndGet();
                    if (!"1.0".equals(b)) {
                        failures.add(String.format("at %.2f s: %s", (System.nanoTime() - t0) / 1e9, b));
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "poller-" + host);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }
}
