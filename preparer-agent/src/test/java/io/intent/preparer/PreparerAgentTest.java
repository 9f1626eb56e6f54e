package io.intent.preparer;

import static io.intent.preparer.Intents.HOST;
import static io.intent.preparer.Intents.artifact;
import static io.intent.preparer.Intents.versions;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.testkit.EtcdCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preparer as it runs on a host: real etcd, the converge kit, a real HTTP server with real archives.
 * Assertions look at the installs on disk and the statuses in etcd.
 */
class PreparerAgentTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static EtcdCluster etcd;
    static ArtifactServer server;
    static int roots;
    static byte[] app10;
    static byte[] app11;
    static byte[] app12;

    @TempDir
    Path dir;
    AgentHarness agent;
    EtcdStore store;
    KeyLayout keys;
    InstallLayout layout;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.single();
        server = new ArtifactServer();
        app10 = Archives.of().file("bin/server", "#!/bin/sh\necho 1.0\n".getBytes(), 0755).file("VERSION", "1.0")
                .tarGz();
        app11 = Archives.of().file("bin/server", "#!/bin/sh\necho 1.1\n".getBytes(), 0755).file("VERSION", "1.1")
                .zip();
        app12 = Archives.of().file("bin/server", "#!/bin/sh\necho 1.2\n".getBytes(), 0755).file("VERSION", "1.2")
                .tar();
        server.put("app-1.0.tar.gz", app10);
        server.put("app-1.1.zip", app11);
        server.put("app-1.2.tar", app12);
        server.put("big.tar.gz", Archives.of().file("blob", Archives.mixed(7, 600_000), 0644).tarGz());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        etcd.close();
    }

    @BeforeEach
    void setUp() {
        agent = new AgentHarness(etcd, dir, "/prep" + (++roots));
        store = agent.store;
        keys = agent.keys;
        layout = agent.layout;
    }

    @AfterEach
    void tearDown() {
        agent.close();
    }

    void agent(String... extra) {
        List<String> args = new ArrayList<>(List.of("--idle-timeout", "3"));
        args.addAll(List.of(extra));
        agent.start(args.toArray(String[]::new));
    }

    void assign(Assignment a) {
        agent.assign(a);
    }

    Optional<AgentStatus> status(String app) {
        return agent.status(app);
    }

    AgentStatus awaitPhase(String app, Phase phase) {
        return agent.awaitPhase(app, phase, WAIT);
    }

    /** What setlive could see: version dirs, not the .tmp-* work of a retry that may be running. */
    List<String> versionDirs(String app) throws IOException {
        return entries(layout.appInstalls(app)).stream().filter(n -> !n.startsWith(".tmp-")).toList();
    }

    List<String> entries(Path p) throws IOException {
        if (!Files.exists(p)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void everyListedVersionIsPreparedFromHttpAndFileAndReportedReady() throws Exception {
        agent();
        Path local = Files.write(agent.repo().resolve("app-1.1.zip"), app11);
        assign(Intents.process("web", 5, versions(
                "1.0", artifact(server.url("ok", "app-1.0.tar.gz"), Archives.sha(app10)),
                "1.1", artifact(local.toUri().toString(), Archives.sha(app11)))));
        AgentStatus s = awaitPhase("web", Phase.READY);
        assertEquals(List.of("1.0", "1.1"), s.details().get("versions"));
        assertEquals(5, s.observedRevision());
        assertEquals("1.0", Files.readString(layout.install("web", "1.0").resolve("VERSION")));
        assertEquals("1.1", Files.readString(layout.install("web", "1.1").resolve("VERSION")));
        assertTrue(Files.isExecutable(layout.install("web", "1.1").resolve("bin/server")));
        assertEquals(Archives.sha(app10), layout.completed("web", "1.0").orElseThrow().sha256());
        assertEquals(List.of("1.0", "1.1"), entries(layout.appInstalls("web")), "no temp dirs left");
    }

    @Test
    void aShaMismatchFailsThatAppWithBothDigestsWhileOthersBecomeReady() throws Exception {
        agent();
        String wrong = "b".repeat(64);
        assign(Intents.process("bad", 3, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"), wrong))));
        assign(Intents.process("good", 4, versions("1.2", artifact(server.url("ok", "app-1.2.tar"),
                Archives.sha(app12)))));
        AgentStatus bad = awaitPhase("bad", Phase.FAILED);
        assertTrue(bad.message().contains(wrong) && bad.message().contains(Archives.sha(app10)), bad.message());
        assertTrue(bad.attempts() >= 1);
        assertNotNull(bad.nextRetry(), "a failing app says when it retries");
        awaitPhase("good", Phase.READY);
        assertTrue(layout.completed("good", "1.2").isPresent());
        assertEquals(List.of(), versionDirs("bad"), "no version dir of the bad version (a retry may be under way)");
        // partial files are deleted (FetcherTest); here: the wrong bytes never enter the cache under either digest
        assertTrue(entries(layout.cacheDir()).stream().noneMatch(n -> n.equals(wrong) || n.equals(Archives.sha(app10))),
                "mismatched download not cached: " + entries(layout.cacheDir()));
    }

    @Test
    void aFifoOrDeviceOrOutsideFileArtifactFailsAtOnceWithAClearStatusAndLeaksNothing() throws Exception {
        agent();
        Path fifo = agent.repo().resolve("app.fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        assertEquals(0, mk.waitFor(), new String(mk.getInputStream().readAllBytes()));
        Path outside = Files.write(dir.resolve("outside.tar.gz"), app10);
        String wrong = "c".repeat(64);
        assign(Intents.process("fifo", 1, versions("1.0", artifact(fifo.toUri().toString(), wrong))));
        assign(Intents.process("zero", 1, versions("1.0", artifact("file:///dev/zero", wrong))));
        assign(Intents.process("outside", 1, versions("1.0", artifact(outside.toUri().toString(), wrong))));
        assign(Intents.process("fine", 1, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"),
                Archives.sha(app10)))));
        Duration atOnce = Duration.ofSeconds(10);
        AgentStatus f = agent.awaitPhase("fifo", Phase.FAILED, atOnce);
        assertTrue(f.message().contains("not a regular file"), f.message());
        AgentStatus z = agent.awaitPhase("zero", Phase.FAILED, atOnce);
        assertTrue(z.message().contains("outside the allowed file roots"), z.message());
        AgentStatus o = agent.awaitPhase("outside", Phase.FAILED, atOnce);
        assertTrue(o.message().contains("outside the allowed file roots"), o.message());
        assertFalse(o.message().contains(Archives.sha(app10)), "digest of a file outside the roots: " + o.message());
        assertFalse(o.message().contains(Integer.toString(app10.length)), "its size: " + o.message());
        awaitPhase("fine", Phase.READY);
    }

    @Test
    void aStalledDownloadFailsAfterTheIdleTimeoutWithoutHoldingUpOtherApps() throws Exception {
        agent();
        byte[] body = serverBody("big.tar.gz");
        assign(Intents.process("stuck", 1, versions("1.0", artifact(server.url("stall", "big.tar.gz"),
                Archives.sha(body)))));
        assign(Intents.process("fine", 1, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"),
                Archives.sha(app10)))));
        awaitPhase("fine", Phase.READY);
        assertTrue(status("stuck").map(s -> s.phase() != Phase.READY).orElse(true));
        AgentStatus s = awaitPhase("stuck", Phase.FAILED);
        assertTrue(s.message().contains("stalled: no data for 3 s"), s.message());
        assertEquals(List.of(), versionDirs("stuck"), "no half install visible");
    }

    @Test
    void aFixedShaRecoversAfterBackoff() throws Exception {
        agent();
        assign(Intents.process("web", 1, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"),
                "c".repeat(64)))));
        awaitPhase("web", Phase.FAILED);
        assign(Intents.process("web", 2, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"),
                Archives.sha(app10)))));
        AgentStatus s = awaitPhase("web", Phase.READY);
        assertEquals(2, s.observedRevision());
    }

    @Test
    void progressWithBytesIsReportedWhileDownloading() throws Exception {
        server.slowMillis = 100;
        server.slowChunk = 16 * 1024;
        agent();
        String url = server.url("slow", "big.tar.gz");
        byte[] body = serverBody("big.tar.gz");
        assign(Intents.process("slow", 1, versions("1.0", artifact(url, Archives.sha(body)))));
        AgentStatus p = awaitPhase("slow", Phase.PROGRESSING);
        await().atMost(WAIT).untilAsserted(() -> {
            AgentStatus s = status("slow").orElseThrow();
            if (s.phase() == Phase.PROGRESSING) {
                long done = ((Number) s.details().get("bytesDone")).longValue();
                assertTrue(done > 0 && done < body.length, "bytesDone " + done);
                assertEquals(body.length, ((Number) s.details().get("bytesTotal")).longValue());
            } else {
                throw new AssertionError("finished before progress was seen: " + s);
            }
        });
        assertEquals(List.of("1.0"), p.details().get("preparing"));
        awaitPhase("slow", Phase.READY);
    }

    static byte[] serverBody(String name) {
        return server.body(name);
    }

    @Test
    void concurrentDownloadsAreBoundedAndASharedArtifactIsFetchedOnce() throws Exception {
        server.slowMillis = 20;
        server.slowChunk = 64 * 1024;
        byte[] body = serverBody("big.tar.gz");
        for (int i = 0; i < 3; i++) {
            server.put("big" + i + ".tar.gz", body);
        }
        agent("--concurrent-downloads", "2");
        server.maxInFlight.set(0);
        int before = server.requests.get();
        for (int i = 0; i < 3; i++) {
            // same bytes, same digest, different URLs: one download serves all three apps
            assign(Intents.process("app" + i, 1, versions("1.0", artifact(server.url("slow", "big" + i + ".tar.gz"),
                    Archives.sha(body)))));
        }
        for (int i = 0; i < 3; i++) {
            awaitPhase("app" + i, Phase.READY);
        }
        assertEquals(1, server.requests.get() - before, "the cache is shared across apps");
        assertTrue(server.maxInFlight.get() <= 2);
        // distinct artifacts: bounded at 2 at a time
        List<byte[]> distinct = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            distinct.add(Archives.of().file("f", Archives.mixed(100 + i, 400_000), 0644).tarGz());
            server.put("d" + i + ".tar.gz", distinct.get(i));
        }
        server.slowMillis = 50;
        server.maxInFlight.set(0);
        for (int i = 0; i < 4; i++) {
            assign(Intents.process("dist" + i, 1, versions("1.0", artifact(server.url("slow", "d" + i + ".tar.gz"),
                    Archives.sha(distinct.get(i))))));
        }
        for (int i = 0; i < 4; i++) {
            awaitPhase("dist" + i, Phase.READY);
        }
        assertEquals(2, server.maxInFlight.get(), "at most (and here exactly) 2 downloads at once");
    }

    @Test
    void versionsNoLongerListedAreRemovedButCurrentIsKept() throws Exception {
        agent();
        var v10 = artifact(server.url("ok", "app-1.0.tar.gz"), Archives.sha(app10));
        var v11 = artifact(server.url("ok", "app-1.1.zip"), Archives.sha(app11));
        var v12 = artifact(server.url("ok", "app-1.2.tar"), Archives.sha(app12));
        assign(Intents.process("web", 1, versions("1.0", v10, "1.1", v11, "1.2", v12)));
        awaitPhase("web", Phase.READY);
        assertEquals(List.of("1.0", "1.1", "1.2"), entries(layout.appInstalls("web")));
        // setlive made 1.0 live
        Files.createDirectories(layout.appDir("web"));
        Files.createSymbolicLink(layout.current("web"), Path.of("../../installs/web/1.0"));

        assign(Intents.process("web", 2, versions("1.2", v12)));
        await().atMost(WAIT).untilAsserted(() ->
                assertEquals(List.of("1.0", "1.2"), entries(layout.appInstalls("web"))));
        assertTrue(layout.completed("web", "1.0").isPresent(), "current's install is whole");
        assertEquals(List.of(Archives.sha(app10), Archives.sha(app12)).stream().sorted().toList(),
                entries(layout.cacheDir()), "the cache keeps only artifacts of installs on disk");

        store.delete(keys.assignment(HOST, "web"));
        await().atMost(WAIT).untilAsserted(() -> {
            assertEquals(List.of("1.0"), entries(layout.appInstalls("web")));
            assertTrue(status("web").isEmpty(), "status removed with the assignment");
        });
        // once setlive drops current, the next resync removes the rest
        Files.delete(layout.current("web"));
        await().atMost(WAIT).untilAsserted(() -> assertFalse(Files.exists(layout.appInstalls("web"))));
    }

    @Test
    void leftoversOfACrashAreCleanedAndAHalfVersionDirIsReplaced() throws Exception {
        Path appDir = Files.createDirectories(layout.appInstalls("web"));
        Files.createDirectories(appDir.resolve(".tmp-1.0-deadbeef/bin"));
        Files.writeString(appDir.resolve(".tmp-1.0-deadbeef/bin/server"), "half");
        Files.createDirectories(appDir.resolve("1.0"));
        Files.writeString(appDir.resolve("1.0/junk"), "not an install: no marker");
        Files.createDirectories(layout.cacheDir());
        Files.writeString(layout.cacheDir().resolve(".tmp-abc-123"), "partial download");
        agent();
        assign(Intents.process("web", 1, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"),
                Archives.sha(app10)))));
        awaitPhase("web", Phase.READY);
        assertEquals(List.of("1.0"), entries(appDir));
        assertEquals(List.of("VERSION", "bin", InstallLayout.MARKER).stream().sorted().toList(),
                entries(appDir.resolve("1.0")));
        assertEquals(List.of(Archives.sha(app10)), entries(layout.cacheDir()));
    }

    @Test
    void anInvalidAssignmentFailsWithTheFieldAndHurtsNoOtherApp() throws Exception {
        agent();
        assign(Intents.process("broken", 9, versions("1.0", artifact(server.url("ok", "x"), "NOT-A-SHA"))));
        store.putBytes(keys.assignment(HOST, "garbage"), "{not json".getBytes(), 0);
        assign(Intents.process("fine", 1, versions("1.0", artifact(server.url("ok", "app-1.0.tar.gz"),
                Archives.sha(app10)))));
        AgentStatus s = awaitPhase("broken", Phase.FAILED);
        assertTrue(s.message().contains("versions.1.0.sha256"), s.message());
        awaitPhase("garbage", Phase.FAILED);
        awaitPhase("fine", Phase.READY);
    }

    @Test
    void aHostileArchiveFailsAndLeavesNothingBehind() throws Exception {
        byte[] evil = Archives.of().file("ok", "x").file("../../../../escaped", "pwned").tarGz();
        server.put("evil.tar.gz", evil);
        agent();
        assign(Intents.process("evil", 1, versions("1.0", artifact(server.url("ok", "evil.tar.gz"),
                Archives.sha(evil)))));
        AgentStatus s = awaitPhase("evil", Phase.FAILED);
        assertTrue(s.message().contains("escapes"), s.message());
        assertEquals(List.of(), versionDirs("evil"));
        try (Stream<Path> all = Files.walk(dir)) {
            assertTrue(all.noneMatch(p -> p.getFileName().toString().equals("escaped")));
        }
    }
}
