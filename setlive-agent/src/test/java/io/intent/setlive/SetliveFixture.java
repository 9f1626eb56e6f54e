package io.intent.setlive;

import static org.awaitility.Awaitility.await;

import io.intent.dispatcher.HostSteward;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Endpoint;
import io.intent.store.model.HealthSpec;
import io.intent.store.model.Phase;
import io.intent.store.model.PortSpec;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Shared setup of setlive's tests: a real etcd, the demo app's tarball, intents and assignments, probes. */
final class SetliveFixture implements AutoCloseable {
    static final String BROKEN_SERVER = "#!/bin/sh\necho 'this version cannot start'\nexit 1\n";

    final EtcdCluster etcd;
    final EtcdStore store;
    final Path work;
    final Path tarball;
    final Path brokenTarball;
    /** The leader's part that grants rollout slots, under a fence of this fixture's own. */
    final HostSteward steward;

    SetliveFixture() throws Exception {
        Prerequisites.require("etcd", "etcd-server");
        Prerequisites.require("runsvdir", "runit");
        Prerequisites.require("sv", "runit");
        Prerequisites.require("busybox", "busybox-static");
        Prerequisites.require("setsid", "util-linux");
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
        work = Files.createTempDirectory("setlive-test");
        tarball = DemoApp.tarball(work.resolve("demo-app.tar.gz"));
        brokenTarball = DemoApp.tarball(work.resolve("broken.tar.gz"), BROKEN_SERVER);
        steward = steward(store);
    }

    /** A {@link HostSteward} leading under a fence key made for it, as a leader's would. */
    static HostSteward steward(EtcdStore store) {
        String fenceKey = store.keys().election() + "/fixture";
        store.put(fenceKey, Map.of("leader", "fixture"));
        HostSteward s = HostSteward.follow(store);
        s.lead(new Fence(fenceKey, store.get(fenceKey, Object.class).orElseThrow().createRevision()));
        return s;
    }

    /** An intent running the demo app on {@code port}, with the given versions (all pointing at its tarball). */
    AppIntent intent(String active, int port, Map<String, String> env, String... versions) {
        Map<String, VersionSpec> vs = new LinkedHashMap<>();
        String sha = DemoApp.sha256(tarball);
        for (String v : versions) {
            vs.put(v, new VersionSpec(tarball.toUri().toString(), sha, null, null));
        }
        return new AppIntent(vs, active, new RunSpec(List.of("bin/server"), env, null),
                List.of(new PortSpec("http", port, "tcp")), 1, null, null,
                new HealthSpec("/healthz", "http", 8), null, null, null);
    }

    /**
     * The intent with each version's sha256 that of the bytes installed for it under {@code root}, as the preparer
     * would have verified them: setlive refuses to run an install whose digest differs from the intent's.
     */
    static AppIntent asInstalled(Path root, String app, AppIntent intent) {
        io.intent.agent.InstallLayout layout = new io.intent.agent.InstallLayout(root);
        Map<String, VersionSpec> vs = new LinkedHashMap<>();
        intent.versions().forEach((v, spec) -> vs.put(v, layout.completed(app, v)
                .map(m -> new VersionSpec(spec.artifact(), m.sha256(), spec.image(), spec.format(), spec.imagePinned()))
                .orElse(spec)));
        return new AppIntent(vs, intent.active(), intent.run(), intent.ports(), intent.scale(), intent.resources(),
                intent.constraints(), intent.health(), intent.runtime(), intent.stateful(), intent.maxUnavailable());
    }

    long assign(String host, String app, AppIntent intent) {
        long rev = System.nanoTime() & 0xffffff;
        store.put(store.keys().assignment(host, app), new Assignment(app, host, rev, intent));
        return rev;
    }

    void unassign(String host, String app) {
        store.delete(store.keys().assignment(host, app));
    }

    Optional<AgentStatus> status(String host, String app) {
        return store.get(store.keys().status(host, app, "setlive"), AgentStatus.class).map(e -> e.value());
    }

    Optional<Endpoint> endpoint(String host, String app) {
        return store.get(store.keys().endpoint(app, host), Endpoint.class).map(e -> e.value());
    }

    static String body(String address, int port) {
        String b = HealthProbe.httpBody(address, port, "/");
        return b == null ? null : b.strip();
    }

    /** Waits until the app answers {@code version} on its port. */
    static void awaitAnswers(String address, int port, String version) {
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(50))
                .until(() -> version.equals(body(address, port)));
    }

    AgentStatus awaitStatus(String host, String app, Phase phase, String messagePart) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> status(host, app)
                .filter(s -> s.phase() == phase && (messagePart == null || s.message().contains(messagePart)))
                .isPresent());
        return status(host, app).orElseThrow();
    }

    @Override
    public void close() {
        steward.close();
        store.close();
        etcd.close();
        try {
            AtomicFiles.deleteTree(work);
        } catch (java.io.IOException e) {
            // a temp dir; the OS cleans it eventually
        }
    }
}
