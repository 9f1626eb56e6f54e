package io.intent.agent.converge.example;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.KeyLayout;
import io.intent.agent.converge.Converger;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example agent of docs/converge-kit.md, run by the kit against a real etcd. */
class VersionFilesAgentTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void theExampleAgentConvergesReportsBacksOffAndCleansUp() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot("/example"))) {
            KeyLayout keys = store.keys();
            store.put(keys.assignment("h1", "web"), assignment("web", "1.0"));
            store.put(keys.assignment("h1", "api"), assignment("api", "broken-2.0"));
            VersionFilesAgent agent = new VersionFilesAgent(dir.resolve("files"));
            Converger<Assignment> kit = new Converger<>(store, "h1", keys.assignSlice("h1"), Assignment.class, agent,
                    Converger.Settings.defaults().withResync(Duration.ofMinutes(5))
                            .withBackoff(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(2))),
                    new SimpleMeterRegistry()).start();
            try {
                await().atMost(WAIT).until(() -> "1.0".equals(read("web.version"))
                        && "api\nweb\n".equals(read("index")));
                await().atMost(WAIT).until(() -> phase(store, keys, "web") == Phase.READY);
                // the failing name is reported with its attempts and retried with backoff
                await().atMost(WAIT).until(() -> status(store, keys, "api") != null
                        && status(store, keys, "api").attempts() >= 3);
                AgentStatus failing = status(store, keys, "api");
                assertEquals(Phase.FAILED, failing.phase());
                assertTrue(failing.message().contains("cannot be written"), failing.message());

                // a fix is news, tried at once; a removal removes the file and the status
                store.put(keys.assignment("h1", "api"), assignment("api", "2.1"));
                await().atMost(WAIT).until(() -> "2.1".equals(read("api.version")));
                store.delete(keys.assignment("h1", "web"));
                await().atMost(WAIT).until(() -> read("web.version") == null && "api\n".equals(read("index"))
                        && status(store, keys, "web") == null);

                // an event the watch cannot see: the agent requeues the name, and the kit repairs it long before
                // the next resync (5 min)
                Files.delete(dir.resolve("files/api.version"));
                agent.touched("api");
                await().atMost(Duration.ofSeconds(10)).until(() -> "2.1".equals(read("api.version")));
            } finally {
                kit.close();
            }
            assertTrue(agent.closed(), "the kit closes the reconciler it runs");
        }
    }

    static Assignment assignment(String app, String active) {
        var intent = new AppIntent(Map.of(active, new VersionSpec("file:///srv/" + app + ".tar.gz", "a".repeat(64),
                null, null)), active, new RunSpec(List.of("bin/server"), null, null), null, 1, null, null, null, null,
                null, null);
        return new Assignment(app, "h1", 1, intent);
    }

    String read(String name) throws Exception {
        Path p = dir.resolve("files").resolve(name);
        return Files.exists(p) ? Files.readString(p) : null;
    }

    static AgentStatus status(EtcdStore store, KeyLayout keys, String app) {
        return store.get(keys.status("h1", app, "version-files"), AgentStatus.class).map(Entry::value).orElse(null);
    }

    static Phase phase(EtcdStore store, KeyLayout keys, String app) {
        AgentStatus s = status(store, keys, app);
        return s == null ? null : s.phase();
    }
}
