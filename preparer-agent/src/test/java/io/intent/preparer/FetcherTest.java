package io.intent.preparer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetching against a real HTTP server that misbehaves in every way a network can. */
class FetcherTest {
    static ArtifactServer server;
    static final byte[] BODY = Archives.mixed(1, 300_000);
    static final String SHA = Archives.sha(BODY);

    @TempDir
    Path root;
    Path repo;
    ArtifactCache cache;
    Fetcher fetcher;

    @BeforeAll
    static void startServer() throws Exception {
        server = new ArtifactServer();
        server.put("a.bin", BODY);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void setUp() throws IOException {
        repo = Files.createDirectories(root.resolve("repo"));
        PreparerSettings s = PreparerSettings.defaults(root)
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(30))
                .withArtifactFileRoots(List.of(repo));
        cache = new ArtifactCache(s.cacheDir());
        fetcher = new Fetcher(cache, s);
    }

    List<Path> cacheFiles() throws IOException {
        try (Stream<Path> s = Files.list(cache.dir())) {
            return s.toList();
        }
    }

    @Test
    void httpDownloadLandsInTheCacheUnderItsDigest() throws Exception {
        Path p = fetcher.fetch(server.url("ok", "a.bin"), SHA, (d, t) -> { });
        assertEquals(cache.dir().resolve(SHA), p);
        assertArrayEquals(BODY, Files.readAllBytes(p));
    }

    @Test
    void aCachedArtifactIsReusedWithoutTheNetwork() throws Exception {
        fetcher.fetch(server.url("ok", "a.bin"), SHA, (d, t) -> { });
        int before = server.requests.get();
        Path p = fetcher.fetch(server.url("missing", "nothing"), SHA, (d, t) -> { });
        assertEquals(before, server.requests.get());
        assertArrayEquals(BODY, Files.readAllBytes(p));
    }

    @Test
    void aCorruptCacheEntryIsRefetched() throws Exception {
        Files.write(cache.dir().resolve(SHA), new byte[] {1, 2, 3});
        Path p = fetcher.fetch(server.url("ok", "a.bin"), SHA, (d, t) -> { });
        assertArrayEquals(BODY, Files.readAllBytes(p));
    }

    @Test
    void fileUrlsInsideTheAllowedRootsAreCopiedAndVerified() throws Exception {
        Path src = Files.write(repo.resolve("src.bin"), BODY);
        Path p = fetcher.fetch(src.toUri().toString(), SHA, (d, t) -> { });
        assertArrayEquals(BODY, Files.readAllBytes(p));
    }

    @Test
    void shaMismatchFailsWithBothDigestsAndLeavesNoPartialFile() throws Exception {
        String wrong = "0".repeat(64);
        PrepareException e = assertThrows(PrepareException.class,
                () -> fetcher.fetch(server.url("ok", "a.bin"), wrong, (d, t) -> { }));
        assertTrue(e.getMessage().contains(wrong) && e.getMessage().contains(SHA), e.getMessage());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void aTruncatedResponseIsCaughtByTheDigest() throws Exception {
        PrepareException e = assertThrows(PrepareException.class,
                () -> fetcher.fetch(server.url("truncated", "a.bin"), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("150000 bytes"), e.getMessage());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void aConnectionResetMidBodyFailsAndLeavesNoPartialFile() throws Exception {
        PrepareException e = assertThrows(PrepareException.class,
                () -> fetcher.fetch(server.url("reset", "a.bin"), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("broke after"), e.getMessage());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void aStalledDownloadFailsAfterTheIdleTimeout() throws Exception {
        long t0 = System.nanoTime();
        PrepareException e = assertThrows(PrepareException.class,
                () -> fetcher.fetch(server.url("stall", "a.bin"), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("stalled"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(15).toNanos());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void aSlowDownloadCompletesAndReportsProgress() throws Exception {
        List<long[]> seen = new ArrayList<>();
        server.slowMillis = 10;
        server.slowChunk = 32 * 1024;
        Path p = fetcher.fetch(server.url("slow", "a.bin"), SHA, (d, t) -> seen.add(new long[] {d, t}));
        assertArrayEquals(BODY, Files.readAllBytes(p));
        assertTrue(seen.stream().anyMatch(x -> x[0] > 0 && x[0] < BODY.length && x[1] == BODY.length),
                "progress between 0 and total was reported");
    }

    @Test
    void aDownloadMayLastLongerThanTheConnectTimeoutWhileDataFlows() throws Exception {
        server.slowMillis = 100;
        server.slowChunk = 8 * 1024;
        PreparerSettings s = PreparerSettings.defaults(root)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(30));
        long t0 = System.nanoTime();
        Path p = new Fetcher(cache, s).fetch(server.url("slow", "a.bin"), SHA, (d, t) -> { });
        assertTrue(System.nanoTime() - t0 > Duration.ofMillis(2500).toNanos(), "the body took over 2.5 s");
        assertArrayEquals(BODY, Files.readAllBytes(p));
    }

    @Test
    void aDownloadOverTheTotalTimeoutFails() throws Exception {
        server.slowMillis = 100;
        server.slowChunk = 12 * 1024;
        PreparerSettings s = PreparerSettings.defaults(root)
                .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(1));
        PrepareException e = assertThrows(PrepareException.class,
                () -> new Fetcher(cache, s).fetch(server.url("slow", "a.bin"), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("took longer than"), e.getMessage());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void redirectsAreFollowedUpToTheLimit() throws Exception {
        Path p = fetcher.fetch(server.url("redirect/3", "a.bin"), SHA, (d, t) -> { });
        assertArrayEquals(BODY, Files.readAllBytes(p));
        Files.delete(p);
        PrepareException e = assertThrows(PrepareException.class,
                () -> new Fetcher(cache, PreparerSettings.defaults(root)).fetch(server.url("redirect/9", "a.bin"),
                        SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("more than 5 redirects"), e.getMessage());
    }

    @Test
    void httpsWorksWithTheConfiguredCaAndFailsClearlyWithout() throws Exception {
        Path ks = root.resolve("server.p12");
        Path ca = root.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "srv", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore",
                ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "srv", "-keystore", ks.toString(), "-storepass", "changeit",
                "-file", ca.toString());
        try (ArtifactServer tls = new ArtifactServer(ks, "changeit")) {
            tls.put("a.bin", BODY);
            Fetcher trusting = new Fetcher(cache, PreparerSettings.defaults(root).withArtifactCa(ca));
            Path p = trusting.fetch(tls.url("ok", "a.bin"), SHA, (d, t) -> { });
            assertArrayEquals(BODY, Files.readAllBytes(p));
            Files.delete(p);

            PrepareException e = assertThrows(PrepareException.class,
                    () -> trusting.fetch(tls.url("tohttp", "a.bin"), SHA, (d, t) -> { }));
            assertTrue(e.getMessage().contains("from https to http"), e.getMessage());

            e = assertThrows(PrepareException.class,
                    () -> fetcher.fetch(tls.url("ok", "a.bin"), SHA, (d, t) -> { }));
            assertTrue(e.getMessage().toLowerCase().contains("certification path")
                    || e.getMessage().contains("PKIX"), e.getMessage());
            assertEquals(List.of(), cacheFiles());
        }
    }

    static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "keytool failed: " + out);
    }

    @Test
    void anHttpErrorNamesTheStatus() {
        PrepareException e = assertThrows(PrepareException.class,
                () -> fetcher.fetch(server.url("ok", "absent.bin"), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
    }

    @Test
    void anArtifactOverTheSizeLimitIsRefusedBeforeItFillsTheDisk() throws Exception {
        PreparerSettings small = PreparerSettings.defaults(root).withLimits(100_000, 1 << 20, 100)
                .withArtifactFileRoots(List.of(repo));
        Fetcher f = new Fetcher(cache, small);
        PrepareException e = assertThrows(PrepareException.class,
                () -> f.fetch(server.url("ok", "a.bin"), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
        Path src = Files.write(repo.resolve("big.bin"), BODY);
        e = assertThrows(PrepareException.class, () -> f.fetch(src.toUri().toString(), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void unreachableServersAndMissingFilesFailClearly() {
        PrepareException e = assertThrows(PrepareException.class,
                () -> fetcher.fetch(repo.resolve("x.tar.gz").toUri().toString(), SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        int port = io.intent.testkit.Ports.free();
        e = assertThrows(PrepareException.class,
                () -> fetcher.fetch("http://127.0.0.1:" + port + "/x", SHA, (d, t) -> { }));
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }

    /** Asserts a file:// fetch fails at once, says {@code why}, and gives away nothing about the file's content. */
    PrepareException refused(Fetcher f, String url, String why) {
        PrepareException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(PrepareException.class, () -> f.fetch(url, "0".repeat(64), (d, t) -> { })));
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertFalse(e.getMessage().contains(SHA), "the digest of a refused file leaks: " + e.getMessage());
        assertFalse(e.getMessage().contains(Integer.toString(BODY.length)), "its size leaks: " + e.getMessage());
        return e;
    }

    @Test
    void fileUrlsAreRefusedWhenNoRootIsConfigured() throws Exception {
        Path src = Files.write(repo.resolve("src.bin"), BODY);
        Fetcher f = new Fetcher(cache, PreparerSettings.defaults(root));
        refused(f, src.toUri().toString(), "--artifact-file-roots");
    }

    @Test
    void aFileOutsideTheAllowedRootsIsRefusedWithoutReportingItsDigestOrSize() throws Exception {
        Path secret = Files.write(root.resolve("secret.bin"), BODY);
        refused(fetcher, secret.toUri().toString(), "outside the allowed file roots");
        refused(fetcher, "file://" + repo + "/../secret.bin", "outside the allowed file roots");
        refused(fetcher, "file:///etc/passwd", "outside the allowed file roots");
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void aSymlinkInsideTheRootsThatLeadsOutOfThemIsRefused() throws Exception {
        Path secret = Files.write(root.resolve("secret.bin"), BODY);
        Path link = Files.createSymbolicLink(repo.resolve("link.bin"), secret);
        refused(fetcher, link.toUri().toString(), "outside the allowed file roots");
        Path dirLink = Files.createSymbolicLink(repo.resolve("up"), root);
        refused(fetcher, dirLink.resolve("secret.bin").toUri().toString(), "outside the allowed file roots");
    }

    @Test
    void aSymlinkThatStaysInsideTheRootsIsFollowed() throws Exception {
        Path src = Files.write(repo.resolve("app-1.0.bin"), BODY);
        Path link = Files.createSymbolicLink(repo.resolve("app-latest.bin"), src.getFileName());
        assertArrayEquals(BODY, Files.readAllBytes(fetcher.fetch(link.toUri().toString(), SHA, (d, t) -> { })));
    }

    @Test
    void aFifoInsideTheRootsIsRefusedAtOnceInsteadOfBlockingTheFetch() throws Exception {
        Path fifo = repo.resolve("app.fifo");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes()));
        refused(fetcher, fifo.toUri().toString(), "not a regular file");
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void devZeroAndDirectoriesAreRefusedEvenFromAnAllowedRoot() throws Exception {
        Fetcher f = new Fetcher(cache, PreparerSettings.defaults(root).withArtifactFileRoots(List.of(Path.of("/dev"),
                repo)));
        refused(f, "file:///dev/zero", "not a regular file");
        refused(f, "file:///dev/null", "not a regular file");
        refused(f, repo.toUri().toString(), "not a regular file");
        assertEquals(List.of(), cacheFiles());
    }
}
