package io.intent.agent.converge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.Backoff;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.EtcdCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The converge kit against a real etcd, driving a small reconciler that materialises each assignment as a
 * file holding its active version: the kit is what is under test, the files make its effects visible.
 */
class ConvergerTest {
    static EtcdCluster etcd;
    static EtcdStore store;
    static final Duration WAIT = Duration.ofSeconds(20);
    static int roots;

    @TempDir
    Path dir;
    KeyLayout keys;
    FileReconciler reconciler;
    Converger<Assignment> kit;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.single();
    }

    @AfterAll
    static void stopEtcd() {
        etcd.close();
    }

    @BeforeEach
    void connect() {
        // every test gets its own key root, so tests never see each other's keys
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot("/t" + (++roots)));
        keys = store.keys();
        reconciler = new FileReconciler(dir);
    }

    @AfterEach
    void close() {
        if (kit != null) {
            kit.close();
        }
        store.close();
    }

    Converger<Assignment> start(Converger.Settings settings) {
        kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, reconciler, settings,
                new SimpleMeterRegistry()).start();
        return kit;
    }

    static Converger.Settings fast() {
        return Converger.Settings.defaults().withResync(Duration.ofSeconds(1))
                .withBackoff(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(2)))
                .withWaitingRetry(Duration.ofMillis(200));
    }

    static Assignment assignment(String app, String active) {
        var intent = new AppIntent(Map.of(active, new VersionSpec("file:///srv/" + app + ".tar.gz", "a".repeat(64),
                null, null)), active, new RunSpec(List.of("bin/server"), null, null), null, 1, null, null, null, null,
                null, null);
        return new Assignment(app, "h1", 1, intent);
    }

    void assign(String app, String active) {
        store.put(keys.assignment("h1", app), assignment(app, active));
    }

    String file(String name) {
        try {
            Path p = dir.resolve(name);
            return Files.exists(p) ? Files.readString(p) : null;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    AgentStatus status(String app) {
        return store.get(keys.status("h1", app, "files"), AgentStatus.class).map(Entry::value).orElse(null);
    }

    /** Writes a file per assigned app; fails on demand; records calls and concurrency. */
    static final class FileReconciler implements Reconciler<Assignment> {
        final Path dir;
        final Map<String, Integer> failuresLeft = new ConcurrentHashMap<>();
        final Map<String, List<Long>> calls = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> concurrent = new ConcurrentHashMap<>();
        final AtomicInteger maxConcurrentPerName = new AtomicInteger();
        volatile long sleepMillis;

        FileReconciler(Path dir) {
            this.dir = dir;
        }

        @Override
        public String agent() {
            return "files";
        }

        @Override
        public Result reconcile(String name, Entry<Assignment> desired) throws Exception {
            calls.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>()).add(System.nanoTime());
            int now = concurrent.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
            maxConcurrentPerName.accumulateAndGet(now, Math::max);
            try {
                if (sleepMillis > 0) {
                    Files.writeString(dir.resolve(".inflight-" + name), "");
                    // the reconcile's own slow work (not a wait of the test): it holds its worker this long
                    Thread.sleep(sleepMillis);
                }
                Path f = dir.resolve(name);
                if (desired == null) {
                    Files.deleteIfExists(f);
                    return Result.removed();
                }
                if (failuresLeft.merge(name, -1, Integer::sum) >= 0) {
                    throw new IOException("disk says no");
                }
                String active = desired.value().intent().active();
                if (!Files.exists(f) || !Files.readString(f).equals(active)) {
                    Path tmp = dir.resolve("." + name + ".tmp");
                    Files.writeString(tmp, active, StandardCharsets.UTF_8);
                    Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                return Result.ready(active, desired.value().appRevision(), "written", Map.of());
            } finally {
                concurrent.get(name).decrementAndGet();
            }
        }

        @Override
        public Set<String> actualNames() throws IOException {
            try (Stream<Path> s = Files.list(dir)) {
                return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                        .collect(Collectors.toSet());
            }
        }
    }

    @Test
    void eachAssignedAppIsConvergedAndReported() throws Exception {
        assign("web", "1.0");
        start(fast());
        assertTrue(kit.awaitReady(WAIT));
        assign("api", "2.0");
        await().atMost(WAIT).until(() -> "1.0".equals(file("web")) && "2.0".equals(file("api")));
        await().atMost(WAIT).until(() -> status("api") != null && status("api").phase() == Phase.READY);
        assertEquals("2.0", status("api").version());
        assertEquals("files", status("api").agent());

        assign("web", "1.1");
        await().atMost(WAIT).until(() -> "1.1".equals(file("web")));
        store.delete(keys.assignment("h1", "api"));
        await().atMost(WAIT).until(() -> file("api") == null && status("api") == null);
    }

    @Test
    void failuresAreRetriedWithGrowingBackoffAndReported() {
        reconciler.failuresLeft.put("flaky", 4);
        assign("flaky", "1.0");
        start(fast().withResync(Duration.ofMinutes(5)));
        await().atMost(WAIT).until(() -> status("flaky") != null && status("flaky").phase() == Phase.FAILED
                && status("flaky").attempts() >= 2);
        AgentStatus failing = status("flaky");
        assertTrue(failing.message().contains("disk says no"), failing.message());
        assertTrue(failing.nextRetry() != null && failing.nextRetry().isAfter(failing.since()));

        await().atMost(WAIT).until(() -> "1.0".equals(file("flaky")));
        await().atMost(WAIT).until(() -> status("flaky").phase() == Phase.READY);
        assertEquals(0, status("flaky").attempts());
        List<Long> t = reconciler.calls.get("flaky");
        assertEquals(5, t.size(), "4 failures, then success");
        // attempt n waits within [base*2^(n-1)/2, base*2^(n-1)]: 100-200, 200-400, 400-800, 800-1600 ms
        for (int n = 1; n <= 4; n++) {
            long gapMs = (t.get(n) - t.get(n - 1)) / 1_000_000;
            long low = 200L << (n - 1) >> 1;
            assertTrue(gapMs >= low - 20, "retry " + n + " came after " + gapMs + " ms, before the backoff " + low);
        }
    }

    @Test
    void aResyncNeverCutsAFailingNamesBackoffShort() {
        reconciler.failuresLeft.put("stuck", 1000);
        assign("stuck", "1.0");
        // a resync every 100 ms, backoff from 200 ms to 1.6 s: the resync must not retry the failing name early
        start(fast().withResync(Duration.ofMillis(100)).withBackoff(new Backoff(Duration.ofMillis(200),
                Duration.ofMillis(1600))));
        await().atMost(WAIT).until(() -> reconciler.calls.getOrDefault("stuck", List.of()).size() >= 5);
        List<Long> t = reconciler.calls.get("stuck");
        for (int n = 1; n < 5; n++) {
            long gapMs = (t.get(n) - t.get(n - 1)) / 1_000_000;
            long low = Math.min(1600, 200L << (n - 1)) / 2;
            assertTrue(gapMs >= low - 20, "retry " + n + " came after " + gapMs + " ms, inside its backoff of at least "
                    + low + " ms: the resync cut it short");
        }
        // a change to the name is news, and is tried at once, backoff or not
        reconciler.failuresLeft.put("stuck", 0);
        long before = System.nanoTime();
        assign("stuck", "2.0");
        await().atMost(WAIT).until(() -> "2.0".equals(file("stuck")));
        assertTrue((System.nanoTime() - before) / 1_000_000 < 1000, "a change waited for the backoff");
    }

    @Test
    void theResyncRepairsChangesMadeBehindItsBack() throws Exception {
        assign("web", "1.0");
        start(fast());
        await().atMost(WAIT).until(() -> "1.0".equals(file("web")));

        Files.delete(dir.resolve("web"));
        Files.writeString(dir.resolve("stray"), "9.9");
        await().atMost(WAIT).until(() -> "1.0".equals(file("web")) && file("stray") == null);
    }

    @Test
    void oneBadKeyDoesNotStopTheOthersAndTearsNothingDown() {
        assign("bad", "1.0");
        start(fast());
        await().atMost(WAIT).until(() -> "1.0".equals(file("bad")));

        store.putBytes(keys.assignment("h1", "bad"), "{\"app\": broken".getBytes(StandardCharsets.UTF_8), 0);
        store.putBytes(keys.assignment("h1", "alien"), "{\"app\":\"alien\",\"host\":\"h1\",\"appRevision\":1,\"colour\":1}".getBytes(
                StandardCharsets.UTF_8), 0);
        assign("good", "3.0");
        await().atMost(WAIT).until(() -> "3.0".equals(file("good")));
        await().atMost(WAIT).until(() -> status("bad") != null && status("bad").phase() == Phase.FAILED);
        assertTrue(status("bad").message().contains("malformed JSON"), status("bad").message());
        await().atMost(WAIT).until(() -> status("alien") != null
                && status("alien").message().contains("unknown field 'colour'"));
        assertEquals("1.0", file("bad"), "an unreadable assignment must not tear down what runs");
        assertEquals(null, file("alien"));
    }

    @Test
    void statusIsWrittenOnlyWhenItChangesEvenAcrossRestarts() throws Exception {
        assign("web", "1.0");
        assign("api", "1.0");
        start(fast());
        await().atMost(WAIT).until(() -> status("web") != null && status("api") != null);
        long webRev = store.get(keys.status("h1", "web", "files"), AgentStatus.class).orElseThrow().modRevision();
        int callsBefore = reconciler.calls.get("web").size();
        await().atMost(WAIT).until(() -> reconciler.calls.get("web").size() >= callsBefore + 2); // two resyncs
        kit.close();
        start(fast());
        await().atMost(WAIT).until(() -> reconciler.calls.get("web").size() >= callsBefore + 3);
        assertEquals(webRev, store.get(keys.status("h1", "web", "files"), AgentStatus.class).orElseThrow()
                .modRevision(), "unchanged status must not be rewritten");
    }

    @Test
    void whatIsOnDiskIsNotRemovedBeforeTheSliceCouldBeRead() throws Exception {
        Files.writeString(dir.resolve("web"), "1.0"); // a host that ran web before its agent restarted
        var unreachable = EtcdConfig.of("http://127.0.0.1:" + io.intent.testkit.Ports.free())
                .withCallTimeout(Duration.ofMillis(300));
        try (EtcdStore dead = EtcdStore.connect(unreachable)) {
            var blind = new Converger<>(dead, "h1", dead.keys().assignSlice("h1"), Assignment.class, reconciler,
                    fast(), new SimpleMeterRegistry()).start();
            try {
                blind.resync();
                blind.enqueue("web");
                await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertEquals("1.0", file("web"), "etcd unreachable at start must not read as 'web was removed'");
                    assertTrue(reconciler.calls.getOrDefault("web", List.of()).isEmpty(),
                            "nothing may be reconciled before the slice was read");
                });
            } finally {
                blind.close();
            }
        }
    }

    @Test
    void aNameIsNeverReconciledTwiceAtOnce() {
        reconciler.sleepMillis = 30;
        start(fast().withWorkers(4));
        for (int i = 0; i < 40; i++) {
            assign("busy", "1." + i);
        }
        await().atMost(WAIT).until(() -> "1.39".equals(file("busy")));
        assertEquals(1, reconciler.maxConcurrentPerName.get());
    }

    @Test
    void closingLetsTheReconcileInFlightFinish() throws Exception {
        reconciler.sleepMillis = 1500;
        start(fast());
        assign("slow", "1.0");
        await().atMost(WAIT).until(() -> reconciler.calls.containsKey("slow"));
        kit.close();
        assertEquals("1.0", file("slow"), "the in-flight reconcile completed before close returned");
    }

    /**
     * The kit's whole-slice mode, driving a reconciler that renders one index file from every assigned app: one
     * call per settled burst, per-name statuses, backoff of a failed call that a resync does not cut.
     */
    @Nested
    class WholeSlice {
        IndexReconciler indexer;

        @BeforeEach
        void newIndexer() {
            indexer = new IndexReconciler(dir.resolve("index"));
        }

        void start(Converger.Settings settings) {
            kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, indexer.asReconciler(),
                    settings, new SimpleMeterRegistry()).start();
        }

        static Converger.Settings calm() {
            return fast().withResync(Duration.ofMinutes(5));
        }

        AgentStatus status(String app) {
            return store.get(keys.status("h1", app, "index"), AgentStatus.class).map(Entry::value).orElse(null);
        }

        String index() {
            try {
                return Files.exists(indexer.file()) ? Files.readString(indexer.file()) : null;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        /**
         * Renders {@code name=version} lines of every valid app into one file; fails on demand; leaves out "silent".
         *
         * @param settleTime the settle time it asks for (set before the kit starts)
         */
        record IndexReconciler(Path file, List<Long> calls, AtomicInteger failuresLeft,
                               AtomicReference<Duration> settleTime) implements SliceReconciler<Assignment> {
            IndexReconciler(Path file) {
                this(file, new CopyOnWriteArrayList<>(), new AtomicInteger(),
                        new AtomicReference<>(Duration.ofMillis(400)));
            }

            @Override
            public String agent() {
                return "index";
            }

            @Override
            public Duration settle() {
                return settleTime.get();
            }

            @Override
            public Map<String, Result> reconcile(Map<String, Entry<Assignment>> desired) throws IOException {
                calls.add(System.nanoTime());
                if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new IOException("disk says no");
                }
                Map<String, Result> results = new TreeMap<>();
                StringBuilder text = new StringBuilder();
                desired.entrySet().stream().filter(e -> e.getValue().valid()).sorted(Map.Entry.comparingByKey())
                        .forEach(e -> {
                            String version = e.getValue().value().intent().active();
                            text.append(e.getKey()).append('=').append(version).append('\n');
                            if (!e.getKey().equals("silent")) {
                                results.put(e.getKey(), Result.ready(version, e.getValue().modRevision(), "indexed",
                                        Map.of()));
                            }
                        });
                Path tmp = file.resolveSibling("index.tmp");
                Files.writeString(tmp, text);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                return results;
            }
        }

        @Test
        void anEmptySliceIsConvergedOnceAndABurstOfChangesIsOneCallReportedNameByName() {
            start(calm());
            await().atMost(WAIT).until(() -> "".equals(index()));
            assertEquals(1, indexer.calls().size(), "the first read makes the artefact, even of an empty slice");
            for (int i = 0; i < 6; i++) {
                assign("app-" + i, "1." + i);
            }
            await().atMost(WAIT).until(() -> {
                for (int i = 0; i < 6; i++) {
                    AgentStatus s = status("app-" + i);
                    if (s == null || s.phase() != Phase.READY) {
                        return false;
                    }
                }
                return true;
            });
            assertEquals(2, indexer.calls().size(), "six puts within the settle time make one call");
            assertEquals("1.3", status("app-3").version());
            assertEquals(6, index().lines().count());
            assertTrue(kit.firstSyncDone());
        }

        @Test
        void aFailedCallBacksOffUnlessAChangeComesAndEveryNameReportsTheFailure() {
            assign("web", "1.0");
            indexer.failuresLeft().set(1000);
            indexer.settleTime().set(Duration.ZERO);
            // a resync every 100 ms, backoff from 200 ms to 1.6 s: the resync must not call a failing slice early
            start(calm().withResync(Duration.ofMillis(100)).withBackoff(new Backoff(Duration.ofMillis(200),
                    Duration.ofMillis(1600))));
            await().atMost(WAIT).until(() -> indexer.calls().size() >= 5);
            List<Long> t = List.copyOf(indexer.calls());
            for (int n = 1; n < 5; n++) {
                long gapMs = (t.get(n) - t.get(n - 1)) / 1_000_000;
                long low = Math.min(1600, 200L << (n - 1)) / 2;
                assertTrue(gapMs >= low - 20, "retry " + n + " came after " + gapMs + " ms, inside its backoff of at least "
                        + low + " ms: the resync cut it short");
            }
            AgentStatus failing = status("web");
            assertEquals(Phase.FAILED, failing.phase());
            assertTrue(failing.message().contains("disk says no"), failing.message());
            assertTrue(failing.attempts() >= 4, "attempts: " + failing.attempts());
            assertTrue(failing.nextRetry() != null, "the backoff is reported");

            indexer.failuresLeft().set(0);
            long before = System.nanoTime();
            assign("web", "2.0");
            await().atMost(WAIT).until(() -> "web=2.0\n".equals(index()));
            assertTrue((System.nanoTime() - before) / 1_000_000 < 1000, "a change waited for the backoff");
            await().atMost(WAIT).until(() -> status("web").phase() == Phase.READY && status("web").attempts() == 0);
        }

        @Test
        void theKitReportsInvalidValuesAndNamesLeftOutAndDeletesTheStatusOfARemovedName() {
            assign("web", "1.0");
            assign("silent", "1.0");
            store.putBytes(keys.assignment("h1", "garbled"), "{not json".getBytes(), 0);
            start(calm());
            await().atMost(WAIT).until(() -> status("web") != null && status("web").phase() == Phase.READY);
            await().atMost(WAIT).until(() -> status("garbled") != null);
            assertEquals(Phase.FAILED, status("garbled").phase());
            assertTrue(status("garbled").message().startsWith("invalid value at "), status("garbled").message());
            assertEquals(Phase.FAILED, status("silent").phase());
            assertEquals("reconciler returned no result", status("silent").message());

            store.delete(keys.assignment("h1", "web"));
            await().atMost(WAIT).until(() -> status("web") == null);
            assertEquals("silent=1.0\n", index());
        }

        @Test
        void runOnceConvergesTheSliceWithOneCallAndSaysHowEachNameEnded() throws Exception {
            assign("web", "1.0");
            assign("silent", "1.0");
            kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, indexer.asReconciler(),
                    calm(), new SimpleMeterRegistry());
            List<Converger.Outcome> outcomes = kit.runOnce(System.nanoTime() + WAIT.toNanos(), 3);
            Map<String, String> ended = outcomes.stream().collect(Collectors.toMap(Converger.Outcome::name,
                    o -> o.phase() + "/" + o.converged()));
            assertEquals(Map.of("web", "READY/true", "silent", "FAILED/false"), ended);
            assertEquals(3, indexer.calls().size(), "the slice is called again until the name left out is given up on");
            assertEquals(Phase.READY, status("web").phase());
            assertNull(status("gone"));
        }

        @Test
        void runOnceOnAnEmptySliceReportsNoName() throws Exception {
            kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, indexer.asReconciler(),
                    calm(), new SimpleMeterRegistry());
            assertEquals(List.of(), kit.runOnce(System.nanoTime() + WAIT.toNanos(), 3));
        }
    }
}
