package io.intent.preparer;

import static io.intent.preparer.Intents.HOST;
import static io.intent.preparer.Intents.artifact;
import static io.intent.preparer.Intents.versions;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a real preparer JVM while it downloads and at several points while it unpacks, then a restart.
 * A watcher polls the installs directory the whole time: a version directory without a valid marker (one
 * that a setlive would mistake for a complete install) must never be visible, not even for a moment.
 */
class PreparerCrashTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final int FILES = 1500;
    static EtcdCluster etcd;
    static ArtifactServer server;
    static byte[] many;
    static String manySha;
    static byte[] slowBody;

    @TempDir
    Path dir;
    AgentHarness harness;
    EtcdStore store;
    KeyLayout keys;
    InstallLayout layout;
    static int roots;
    final List<String> violations = new CopyOnWriteArrayList<>();
    final AtomicLong observations = new AtomicLong();
    final AtomicBoolean watching = new AtomicBoolean(true);
    Thread watcher;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.single();
        server = new ArtifactServer();
        Archives a = Archives.of();
        for (int i = 0; i < FILES; i++) {
            a.file("data/d" + (i % 30) + "/f" + i, Archives.mixed(i, 6000 + (i % 7) * 1000), i % 5 == 0 ? 0755 : 0644);
        }
        many = a.tarGz();
        manySha = Archives.sha(many);
        slowBody = Archives.of().file("blob", Archives.mixed(3, 3_000_000), 0644).tarGz();
        server.put("slow.tar.gz", slowBody);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        etcd.close();
    }

    @BeforeEach
    void setUp() {
        harness = new AgentHarness(etcd, dir, "/crash" + (++roots));
        store = harness.store;
        keys = harness.keys;
        layout = harness.layout;
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        watching.set(false);
        if (watcher != null) {
            watcher.join(5000);
        }
        harness.close();
    }

    JvmProcess startAgent() {
        return harness.startJvm();
    }

    /** Polls installs/ continuously; records any version dir whose marker is missing or wrong. */
    void watch(String app, String sha) {
        watcher = new Thread(() -> {
            Path appDir = layout.appInstalls(app);
            while (watching.get()) {
                if (Files.isDirectory(appDir)) {
                    try (DirectoryStream<Path> ds = Files.newDirectoryStream(appDir)) {
                        for (Path p : ds) {
                            String v = p.getFileName().toString();
                            if (v.startsWith(".tmp-")) {
                                continue;
                            }
                            observations.incrementAndGet();
                            var m = layout.completed(app, v);
                            if (m.isEmpty() || !sha.equals(m.get().sha256())) {
                                violations.add(v + " visible without a valid marker: " + m);
                            }
                        }
                    } catch (IOException e) {
                        // the directory changed under us: look again
                    }
                }
                java.util.concurrent.locks.LockSupport.parkNanos(250_000); // ~4000 looks a second, not a whole core
            }
        }, "install-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    AgentStatus status(String app) {
        return harness.status(app).orElse(null);
    }

    long filesUnder(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(Files::isRegularFile).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    Path tempDir(String app) throws IOException {
        Path appDir = layout.appInstalls(app);
        if (!Files.isDirectory(appDir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(appDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".tmp-")).findFirst().orElse(null);
        }
    }

    void awaitConverged(String app, String version) throws IOException {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            AgentStatus s = status(app);
            assertTrue(s != null && s.phase() == Phase.READY, "status " + s);
            assertEquals(List.of(version), s.details().get("versions"));
        });
        try (Stream<Path> s = Files.list(layout.appInstalls(app))) {
            assertEquals(List.of(version), s.map(p -> p.getFileName().toString()).toList(), "no leftovers");
        }
        try (Stream<Path> s = Files.list(layout.cacheDir())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no partial downloads");
        }
    }

    @Test
    void killedDuringDownloadItResumesAfterRestartAndNothingHalfIsVisible() throws Exception {
        server.slowMillis = 50;
        server.slowChunk = 32 * 1024;
        String sha = Archives.sha(slowBody);
        watch("slow", sha);
        store.put(keys.assignment(HOST, "slow"), Intents.process("slow", 1, versions("1.0",
                artifact(server.url("slow", "slow.tar.gz"), sha))));
        JvmProcess agent = startAgent();
        await().atMost(WAIT).until(() -> {
            AgentStatus s = status("slow");
            return s != null && s.phase() == Phase.PROGRESSING
                    && ((Number) s.details().get("bytesDone")).longValue() > 100_000;
        });
        agent.kill9();
        assertTrue(tempFiles(layout.cacheDir()) > 0, "the kill hit a download in progress");
        assertEquals(List.of(), versionDirs("slow"));

        server.slowMillis = 1;
        server.slowChunk = 256 * 1024;
        startAgent();
        awaitConverged("slow", "1.0");
        assertEquals(List.of(), violations);
        assertTrue(observations.get() > 0);
    }

    @Test
    void killedAtSeveralPointsOfUnpackingItConvergesAndNeverShowsAHalfInstall() throws Exception {
        Path artifact = Files.write(harness.repo().resolve("many.tar.gz"), many);
        watch("many", manySha);
        store.put(keys.assignment(HOST, "many"), Intents.process("many", 1, versions("1.0",
                artifact(artifact.toUri().toString(), manySha))));
        int kills = 0;
        for (long threshold : new long[] {1, FILES / 3, 2L * FILES / 3, FILES}) {
            JvmProcess agent = startAgent();
            long[] seen = {0};
            boolean hit = awaitUnpacking("many", threshold, seen, agent);
            agent.kill9();
            if (hit) {
                kills++;
            }
            assertEquals(List.of(), versionDirsWithoutMarker("many"), "after kill at >= " + threshold + " files");
            if (layout.completed("many", "1.0").isPresent()) {
                break; // it finished before the kill: nothing more to interrupt
            }
        }
        assertTrue(kills >= 2, "at least two kills landed mid-unpack, got " + kills);
        startAgent();
        awaitConverged("many", "1.0");
        assertEquals(FILES, filesUnder(layout.install("many", "1.0").resolve("data")));
        assertTrue(Files.isExecutable(layout.install("many", "1.0").resolve("data/d0/f0")));
        assertEquals(List.of(), violations);
        assertTrue(observations.get() > 0);
    }

    /** Waits until the agent's temp dir holds at least {@code threshold} files; false if it finished first. */
    boolean awaitUnpacking(String app, long threshold, long[] seen, JvmProcess agent) {
        boolean[] finished = {false};
        try {
            // polled every millisecond in this thread: the kill that follows must land while the unpack runs
            await().atMost(WAIT).pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                    .until(() -> {
                        Path tmp = tempDir(app);
                        if (tmp != null) {
                            seen[0] = filesUnder(tmp);
                            if (seen[0] >= threshold) {
                                return true;
                            }
                        }
                        finished[0] = layout.completed(app, "1.0").isPresent();
                        assertTrue(finished[0] || agent.alive(), "agent died by itself:\n" + agent.output());
                        return finished[0];
                    });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("unpacking never reached " + threshold + " files:\n" + agent.output(), e);
        }
        return !finished[0];
    }

    long tempFiles(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".tmp-")).count();
        }
    }

    List<String> versionDirs(String app) throws IOException {
        Path appDir = layout.appInstalls(app);
        if (!Files.isDirectory(appDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(appDir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".tmp-")).toList();
        }
    }

    List<String> versionDirsWithoutMarker(String app) throws IOException {
        return versionDirs(app).stream().filter(v -> layout.completed(app, v).isEmpty()).toList();
    }
}
