package io.intent.store.converge;

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
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.testkit.EtcdCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kit's whole-slice mode against a real etcd, driving a reconciler that renders one index file from every
 * assigned app: one call per settled burst, per-name statuses, backoff of a failed call that a resync does not cut.
 */
class WholeSliceTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static EtcdCluster etcd;
    static int roots;

    @TempDir
    Path dir;
    EtcdStore store;
    KeyLayout keys;
    IndexReconciler reconciler;
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
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot("/w" + (++roots)));
        keys = store.keys();
        reconciler = new IndexReconciler(dir.resolve("index"));
    }

    @AfterEach
    void close() {
        if (kit != null) {
            kit.close();
        }
        store.close();
    }

    void start(Converger.Settings settings) {
        kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, reconciler.asReconciler(),
                settings, new SimpleMeterRegistry()).start();
    }

    static Converger.Settings fast() {
        return ConvergerTest.fast().withResync(Duration.ofMinutes(5));
    }

    void assign(String app, String active) {
        store.put(keys.assignment("h1", app), ConvergerTest.assignment(app, active));
    }

    AgentStatus status(String app) {
        return store.get(keys.status("h1", app, "index"), AgentStatus.class).map(Entry::value).orElse(null);
    }

    String index() {
        try {
            return Files.exists(reconciler.file) ? Files.readString(reconciler.file) : null;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    /** Renders {@code name=version} lines of every valid app into one file; fails on demand; leaves out "silent". */
    static final class IndexReconciler implements SliceReconciler<Assignment> {
        final Path file;
        final List<Long> calls = new CopyOnWriteArrayList<>();
        final AtomicInteger failuresLeft = new AtomicInteger();
        volatile Duration settle = Duration.ofMillis(400);

        IndexReconciler(Path file) {
            this.file = file;
        }

        @Override
        public String agent() {
            return "index";
        }

        @Override
        public Duration settle() {
            return settle;
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
        start(fast());
        await().atMost(WAIT).until(() -> "".equals(index()));
        assertEquals(1, reconciler.calls.size(), "the first read makes the artefact, even of an empty slice");
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
        assertEquals(2, reconciler.calls.size(), "six puts within the settle time make one call");
        assertEquals("1.3", status("app-3").version());
        assertEquals(6, index().lines().count());
        assertTrue(kit.firstSyncDone());
    }

    @Test
    void aFailedCallBacksOffUnlessAChangeComesAndEveryNameReportsTheFailure() {
        assign("web", "1.0");
        reconciler.failuresLeft.set(1000);
        reconciler.settle = Duration.ZERO;
        // a resync every 100 ms, backoff from 200 ms to 1.6 s: the resync must not call a failing slice early
        start(fast().withResync(Duration.ofMillis(100)).withBackoff(new Backoff(Duration.ofMillis(200),
                Duration.ofMillis(1600))));
        await().atMost(WAIT).until(() -> reconciler.calls.size() >= 5);
        List<Long> t = List.copyOf(reconciler.calls);
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

        reconciler.failuresLeft.set(0);
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
        start(fast());
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
        kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, reconciler.asReconciler(),
                fast(), new SimpleMeterRegistry());
        List<Converger.Outcome> outcomes = kit.runOnce(System.nanoTime() + WAIT.toNanos(), 3);
        Map<String, String> ended = outcomes.stream().collect(Collectors.toMap(Converger.Outcome::name,
                o -> o.phase() + "/" + o.converged()));
        assertEquals(Map.of("web", "READY/true", "silent", "FAILED/false"), ended);
        assertEquals(3, reconciler.calls.size(), "the slice is called again until the name left out is given up on");
        assertEquals(Phase.READY, status("web").phase());
        assertNull(status("gone"));
    }
}
