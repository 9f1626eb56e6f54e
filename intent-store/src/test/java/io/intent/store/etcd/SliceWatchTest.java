package io.intent.store.etcd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.EtcdCluster;
import io.intent.testkit.TcpProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** watchSlice against a real etcd: snapshot then events, and no lost change across failures. */
class SliceWatchTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** The listener's view of the slice: applies every change it is given. */
    static final class View implements SliceWatch.Listener<Map> {
        final Map<String, String> state = new ConcurrentHashMap<>();
        final AtomicInteger batches = new AtomicInteger();
        volatile boolean sawRelistAfterStart;

        @Override
        public void onChanges(List<SliceWatch.Change<Map>> changes, long revision, boolean relisted) {
            if (batches.getAndIncrement() > 0 && relisted) {
                sawRelistAfterStart = true;
            }
            for (var c : changes) {
                if (c.kind() == SliceWatch.Kind.PUT) {
                    state.put(c.key(), c.entry().valid() ? String.valueOf(c.entry().value().get("v")) : "INVALID");
                } else {
                    state.remove(c.key());
                }
            }
        }

        Map<String, String> sorted() {
            return new TreeMap<>(state);
        }
    }

    static Map<String, String> truth(EtcdStore store, String prefix) {
        Map<String, String> m = new TreeMap<>();
        for (var e : store.list(prefix, Map.class).entries()) {
            m.put(e.key(), e.valid() ? String.valueOf(e.value().get("v")) : "INVALID");
        }
        return m;
    }

    @Test
    void listenersGetTheSnapshotThenEveryChange() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single(); EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            store.put("/s/a", Map.of("v", 1));
            store.put("/s/b", Map.of("v", 1));
            store.put("/sx/outside", Map.of("v", 1));
            View view = new View();
            try (var w = store.watchSlice("/s/", Map.class, view)) {
                assertTrue(w.awaitReady(WAIT));
                assertEquals(Map.of("/s/a", "1", "/s/b", "1"), view.sorted());
                store.put("/s/c", Map.of("v", 1));
                store.put("/s/a", Map.of("v", 2));
                store.delete("/s/b");
                store.putBytes("/s/d", "not json".getBytes(StandardCharsets.UTF_8), 0);
                await().atMost(WAIT).until(() -> view.sorted().equals(
                        Map.of("/s/a", "2", "/s/c", "1", "/s/d", "INVALID")));
                assertFalse(view.sawRelistAfterStart);
            }
        }
    }

    @Test
    void noChangeIsLostAcrossACompactionMadeWhileDisconnected() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             TcpProxy link = TcpProxy.to(etcd.member(0).clientPort());
             EtcdStore writer = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             EtcdStore watcherStore = EtcdStore.connect(EtcdConfig.of(link.url()))) {
            for (int i = 0; i < 5; i++) {
                writer.put("/c/k" + i, Map.of("v", 0));
            }
            View view = new View();
            try (var w = watcherStore.watchSlice("/c/", Map.class, view)) {
                assertTrue(w.awaitReady(WAIT));
                await().atMost(WAIT).until(() -> view.state.size() == 5);
                long relistsBefore = w.relists();

                link.cut();
                writer.delete("/c/k0");
                writer.put("/c/k1", Map.of("v", 1));
                writer.put("/c/k9", Map.of("v", 9));
                writer.delete("/c/k2");
                writer.put("/c/k2", Map.of("v", 2));
                for (int i = 0; i < 20; i++) {
                    writer.put("/elsewhere/x", Map.of("v", i));
                }
                writer.compact(writer.revision());
                link.restore();

                Map<String, String> expected = truth(writer, "/c/");
                assertEquals(Map.of("/c/k1", "1", "/c/k2", "2", "/c/k3", "0", "/c/k4", "0", "/c/k9", "9"), expected);
                await().atMost(WAIT).until(() -> view.sorted().equals(expected));
                assertTrue(w.relists() > relistsBefore, "recovery must have relisted after the compaction");

                writer.put("/c/after", Map.of("v", 1));
                await().atMost(WAIT).until(() -> "1".equals(view.state.get("/c/after")));
            }
        }
    }

    @Test
    void noChangeIsLostAcrossAnEtcdRestart() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single(); EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            View view = new View();
            try (var w = store.watchSlice("/r/", Map.class, view)) {
                assertTrue(w.awaitReady(WAIT));
                store.put("/r/before", Map.of("v", 1));
                etcd.kill(0);
                etcd.restart(0);
                store.put("/r/after", Map.of("v", 2));
                store.delete("/r/before");
                await().atMost(WAIT).until(() -> view.sorted().equals(Map.of("/r/after", "2")));
                etcd.kill(0);
                etcd.restart(0);
                store.put("/r/again", Map.of("v", 3));
                await().atMost(WAIT).until(() -> view.sorted().equals(Map.of("/r/after", "2", "/r/again", "3")));
            }
        }
    }

    @Test
    void noChangeIsLostWhenAnyOneMemberOfThreeDies() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(3);
             EtcdStore watcherStore = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            View view = new View();
            try (var w = watcherStore.watchSlice("/m/", Map.class, view)) {
                assertTrue(w.awaitReady(WAIT));
                for (int dead = 0; dead < 3; dead++) {
                    etcd.kill(dead);
                    int alive = (dead + 1) % 3;
                    try (EtcdStore writer = EtcdStore.connect(EtcdConfig.of(etcd.endpoint(alive)))) {
                        writer.put("/m/k" + dead, Map.of("v", dead));
                        writer.delete("/m/k" + (dead - 1));
                        Map<String, String> expected = truth(writer, "/m/");
                        await().atMost(WAIT).until(() -> view.sorted().equals(expected));
                    }
                    etcd.restart(dead);
                }
                assertEquals(Map.of("/m/k2", "2"), view.sorted());
            }
        }
    }
}
