package io.intent.preparer;

import static io.intent.preparer.Intents.HOST;
import static io.intent.preparer.Intents.versions;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.InstallLayout;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Docker versions against the real dockerd: docker-archive loaded, local images used, missing ones reported. */
class DockerPrepareTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static EtcdCluster etcd;
    static int roots;

    @TempDir
    Path dir;
    AgentHarness agent;
    EtcdStore store;
    KeyLayout keys;
    InstallLayout layout;
    LocalImages images;
    final String tag = UUID.randomUUID().toString().substring(0, 8);

    @BeforeAll
    static void start() {
        LocalImages.requireDocker();
        etcd = EtcdCluster.single();
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void setUp() {
        agent = new AgentHarness(etcd, dir, "/dock" + (++roots));
        store = agent.store;
        keys = agent.keys;
        layout = agent.layout;
        images = new LocalImages();
    }

    @AfterEach
    void tearDown() {
        agent.close();
        images.close();
    }

    void agent() {
        agent.start("--download-timeout", "30");
    }

    AgentStatus awaitPhase(String app, Phase phase) {
        return agent.awaitPhase(app, phase, WAIT);
    }

    @Test
    void aDockerArchiveIsLoadedIntoDockerdAndItsIdRecordedThenCollectedWhenUnlisted() throws Exception {
        String archRef = "intent-test/prep-archive:" + tag;
        String localRef = "intent-test/prep-local:" + tag;
        String archId = images.build(archRef, dir);
        Path archive = images.save(archRef, agent.repo().resolve("app.docker.tar"));
        LocalImages.remove(archRef);
        assertNull(LocalImages.idOf(archId), "the image is gone before the agent loads it");
        String localId = images.build(localRef, dir);

        agent();
        var fromArchive = new VersionSpec(archive.toUri().toString(), Archives.sha(Files.readAllBytes(archive)),
                null, VersionSpec.DOCKER_ARCHIVE);
        var fromLocal = new VersionSpec(null, null, localRef, null, false);
        store.put(keys.assignment(HOST, "svc"), Intents.docker("svc", 1, versions("1.0", fromArchive,
                "2.0", fromLocal)));
        AgentStatus s = awaitPhase("svc", Phase.READY);
        assertEquals(List.of("1.0", "2.0"), s.details().get("versions"));
        assertEquals(archId, LocalImages.idOf(archId), "dockerd has the loaded image");
        assertEquals(archId, layout.completed("svc", "1.0").orElseThrow().imageId());
        assertEquals(localId, layout.completed("svc", "2.0").orElseThrow().imageId());

        // drop both versions (2.0 stays live through current): the loaded image goes, the operator's stays
        Files.createDirectories(layout.appDir("svc"));
        Files.createSymbolicLink(layout.current("svc"), Path.of("../../installs/svc/2.0"));
        var other = new VersionSpec(null, null, localRef, null, false);
        store.put(keys.assignment(HOST, "svc"), Intents.docker("svc", 2, versions("3.0", other)));
        await().atMost(WAIT).untilAsserted(() -> {
            assertTrue(Files.notExists(layout.install("svc", "1.0")));
            assertNull(LocalImages.idOf(archId), "the image the agent loaded was removed");
        });
        assertTrue(layout.completed("svc", "2.0").isPresent(), "current is kept");
        assertEquals(localId, LocalImages.idOf(localRef), "an image the agent did not load is never removed");
        awaitPhase("svc", Phase.READY);
    }

    @Test
    void anImageTagThatIsNotPinnedByDigestIsRefusedNamingTheOptOut() {
        agent();
        String ref = "intent-test/moving:" + tag;
        store.put(keys.assignment(HOST, "moving"), Intents.docker("moving", 1, versions("1.0",
                new VersionSpec(null, null, ref, null))));
        AgentStatus s = awaitPhase("moving", Phase.FAILED);
        assertTrue(s.message().contains("versions.1.0.image") && s.message().contains("not pinned by digest")
                && s.message().contains("versions.1.0.imagePinned: false"), s.message());
    }

    @Test
    void anImageThatIsNeitherLocalNorPullableFailsClearly() {
        agent();
        String ref = "intent-test/never-built:" + tag;
        store.put(keys.assignment(HOST, "ghost"), Intents.docker("ghost", 1, versions("1.0",
                new VersionSpec(null, null, ref, null, false))));
        AgentStatus s = awaitPhase("ghost", Phase.FAILED);
        assertTrue(s.message().contains(ref) && s.message().contains("not present locally and pulling it failed"),
                s.message());
        assertNotNull(s.nextRetry());
        assertTrue(Files.notExists(layout.install("ghost", "1.0")));
    }

    @Test
    void aDockerArchiveThatIsNotOneFailsClearly() throws Exception {
        byte[] notDocker = Archives.of().file("hello", "not an image").tar();
        Path p = Files.write(agent.repo().resolve("fake.tar"), notDocker);
        agent();
        store.put(keys.assignment(HOST, "fake"), Intents.docker("fake", 1, versions("1.0",
                new VersionSpec(p.toUri().toString(), Archives.sha(notDocker), null, VersionSpec.DOCKER_ARCHIVE))));
        AgentStatus s = awaitPhase("fake", Phase.FAILED);
        assertTrue(s.message().contains("no manifest.json"), s.message());
    }
}
