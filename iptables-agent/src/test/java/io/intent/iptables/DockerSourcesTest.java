package io.intent.iptables;

import static io.intent.iptables.Intents.tcp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.agent.converge.AgentRuntime;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.PortSpec;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.NetNs;
import io.intent.testkit.Ports;
import io.intent.testkit.Prerequisites;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A docker app's published port obeys {@code sources}: the machine's own dockerd publishes a busybox container
 * on an address of the root namespace, two clients in their own network namespaces (veth pairs) connect to it,
 * and the real agent's chain behind DOCKER-USER lets only the allowed one in. The agent's chains have names
 * of this test run and are removed afterwards, so the machine's own rules are left as they were.
 */
class DockerSourcesTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String INPUT_CHAIN = "INTENT-TI" + ProcessHandle.current().pid();
    static final String DOCKER_CHAIN = "INTENT-TD" + ProcessHandle.current().pid();
    static final int NET = 20 + (int) (ProcessHandle.current().pid() % 200);
    static final String HOST_ADDR = "10.231." + NET + ".1";
    static final String ALLOWED = "10.231." + NET + ".2";
    static final String OTHER_GW = "10.231." + NET + ".5";
    static final String OTHER = "10.231." + NET + ".6";
    static final String IMAGE = "intent-test/docker-sources:" + ProcessHandle.current().pid();

    static EtcdCluster etcd;
    static NetNs allowed;
    static NetNs other;
    static final List<Runnable> cleanup = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        Prerequisites.requireRoot("veth pairs and the DOCKER-USER chain");
        Prerequisites.require("iptables", "iptables");
        etcd = EtcdCluster.single();
        cleanup.add(etcd::close);
        DemoApp.dockerImage(IMAGE);
        cleanup.add(() -> sh("docker", "rmi", "-f", IMAGE));
        allowed = NetNs.create();
        cleanup.add(allowed::close);
        other = NetNs.create();
        cleanup.add(other::close);
        link(allowed, "a", HOST_ADDR, ALLOWED, 30);
        link(other, "b", OTHER_GW, OTHER, 30);
    }

    /** A veth pair from the root namespace into {@code ns}, with a default route back through it. */
    static void link(NetNs ns, String tag, String rootAddr, String nsAddr, int bits) {
        String host = "it" + tag + ProcessHandle.current().pid() % 100000;
        String peer = host + "p";
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
        cleanup.add(() -> sh("ip", "link", "del", host));
        sh("ip", "link", "set", peer, "netns", ns.name());
        sh("ip", "addr", "add", rootAddr + "/" + bits, "dev", host);
        sh("ip", "link", "set", host, "up");
        ns.execOk("ip", "addr", "add", nsAddr + "/" + bits, "dev", peer);
        ns.execOk("ip", "link", "set", peer, "up");
        ns.execOk("ip", "route", "add", "default", "via", rootAddr);
    }

    @AfterAll
    static void stop() {
        // our chains and their jumps in the machine's own tables, then everything else in reverse
        sh("sh", "-c", "iptables -D INPUT -j " + INPUT_CHAIN + "; iptables -D DOCKER-USER -j " + DOCKER_CHAIN
                + "; iptables -F " + INPUT_CHAIN + "; iptables -X " + INPUT_CHAIN + "; iptables -F " + DOCKER_CHAIN
                + "; iptables -X " + DOCKER_CHAIN + "; true");
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).run();
            } catch (RuntimeException | AssertionError e) {
                // go on removing the rest
            }
        }
    }

    static String sh(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The page the app serves on the published port, fetched from inside {@code ns}, or null when none came. */
    static String fetch(NetNs ns, int port) {
        NetNs.Output out = ns.exec("curl", "-s", "-m", "1", "http://" + HOST_ADDR + ":" + port + "/");
        return out.ok() ? out.stdout().strip() : null;
    }

    static Assignment dockerApp(String app, long revision, PortSpec port) {
        AppIntent intent = new AppIntent(Map.of("1.0", new VersionSpec(null, null, IMAGE, null, false)), "1.0",
                new RunSpec(List.of("/app/bin/server"), Map.of(), null), List.of(port), 1, null, null, null,
                AppIntent.RUNTIME_DOCKER, null, null);
        return new Assignment(app, "h1", revision, intent);
    }

    @Test
    void aDockerAppWithSourcesAnswersOnlyTheAllowedClientAndWithoutSourcesAnyone() {
        int port = Ports.free();
        String container = "intent-docker-sources-" + ProcessHandle.current().pid();
        // published the way setlive's DockerRuntime does: the host address and the app's port on both sides
        sh("docker", "run", "-d", "--rm", "--name", container, "-p", HOST_ADDR + ":" + port + ":" + port,
                "-e", "INTENT_HOST_ADDR=0.0.0.0", "-e", "INTENT_PORT_HTTP=" + port, "-e", "INTENT_VERSION=1.0",
                IMAGE, "/app/bin/server");
        cleanup.add(() -> sh("docker", "rm", "-f", container));
        // today's problem: Docker's DNAT and FORWARD bypass INPUT, so anyone reaches the port
        await().atMost(WAIT).until(() -> "1.0".equals(fetch(other, port)));

        try (EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot("/dsrc"))) {
            IptablesMain main = new IptablesMain();
            new CommandLine(main).parseArgs("--etcd", String.join(",", etcd.endpoints()), "--key-root", "/dsrc",
                    "--host", "h1", "--root", dir.resolve("root").toString(), "--http-port", "-1", "--resync", "1",
                    "--backend", "iptables", "--chain", INPUT_CHAIN, "--docker-chain", DOCKER_CHAIN);
            AgentRuntime runtime = main.start();
            try {
                store.put(store.keys().assignment("h1", "web"), dockerApp("web", 1, tcp("http", port, ALLOWED)));
                awaitDockerRules(store, 2);
                assertEquals("1.0", fetch(allowed, port), "the allowed client is answered");
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                        .until(() -> fetch(other, port) == null);

                store.put(store.keys().assignment("h1", "web"), dockerApp("web", 2, tcp("http", port)));
                awaitDockerRules(store, 0);
                await().atMost(WAIT).until(() -> "1.0".equals(fetch(other, port)));
                assertEquals("1.0", fetch(allowed, port));
            } finally {
                runtime.close();
            }
        }
    }

    static void awaitDockerRules(EtcdStore store, int rules) {
        await().atMost(WAIT).untilAsserted(() -> {
            AgentStatus s = store.get(store.keys().status("h1", "web", "iptables"), AgentStatus.class)
                    .map(e -> e.value()).orElseThrow(() -> new AssertionError("no status"));
            assertEquals(Phase.READY, s.phase(), s.message());
            Object n = s.details().get("dockerRules");
            assertEquals(rules, n == null ? 0 : ((Number) n).intValue(), s.message());
        });
        String save = sh("iptables-save", "-t", "filter");
        assertTrue(save.contains("-A DOCKER-USER -j " + DOCKER_CHAIN), save);
    }
}
