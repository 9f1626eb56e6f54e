package io.intent.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.Tokens;
import io.intent.cli.IntentCtl;
import io.intent.leader.LeaderElection;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.PermissionDeniedException;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.HostNetwork;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Pki;
import io.intent.testkit.Prerequisites;
import io.intent.testkit.Rbac;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole path across several hosts, with nothing simulated but the machines: a 3-member etcd with TLS on
 * every client and peer connection (a private CA made at test time by etc/tls/make-certs.sh) and auth on (one
 * etcd user per host, from etc/etcd/setup-rbac.sh), two leader JVMs, and three hosts, each a node JVM
 * (preparer + iptables + setlive) in its own network namespace whose INPUT policy is DROP, so an app answers
 * only if the iptables agent really opened its port. Apps run under real runit. Operators' writes go through
 * the API (its own JVM, etcd user intent-api, serving HTTPS) with intentctl (--cacert), as in production. The
 * scenarios share that system and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndTest {
    static final Duration CONVERGE = Duration.ofSeconds(90);
    static final int HOSTS = 3;
    static final int PORT = 8080;
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final String OPERATOR_TOKEN = "e2e-operator-token-0123456789";

    static Path work;
    static HostNetwork net;
    static EtcdCluster etcd;
    static EtcdStore admin;
    static Rbac rbac;
    static Pki pki;
    static HttpClient apiHttp;
    static JvmProcess apiProcess;
    static String apiUrl;
    static Vertx artifacts;
    static String artifactBase;
    static Map<String, String> digests;
    static final Map<String, JvmProcess> leaders = new HashMap<>();
    static final List<JvmProcess> nodes = new ArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(800)).build();

    static String host(int i) {
        return "h" + (i + 1);
    }

    @BeforeAll
    static void startTheSystem() throws Exception {
        Prerequisites.require("runsvdir", "runit");
        Prerequisites.require("busybox", "busybox-static");
        Prerequisites.require("etcdctl", "etcd-client");
        Prerequisites.require("iptables", "iptables");
        work = Files.createTempDirectory("intent-e2e-");
        net = HostNetwork.create(HOSTS);
        pki = Pki.create(work.resolve("tls"));
        apiHttp = HttpClient.newBuilder().sslContext(pki.sslContext()).connectTimeout(Duration.ofMillis(800)).build();
        etcd = EtcdCluster.startTls(3, net.gateway(), pki);

        // auth on, one user per host, as an operator would with etc/
        String[] hosts = new String[HOSTS];
        for (int i = 0; i < HOSTS; i++) {
            hosts[i] = host(i);
        }
        rbac = Rbac.setup(etcd.endpoints(), pki.ca(), work, hosts);
        admin = EtcdStore.connect(etcdConfig().withCredentials("root", Rbac.ROOT_PASSWORD));
        startApi();

        digests = DemoArtifacts.build(REPO.resolve("test-data/demo-app"), work.resolve("repo"));
        int artifactPort = io.intent.testkit.Ports.free();
        artifacts = Vertx.vertx();
        Path repoDir = work.resolve("repo");
        artifacts.createHttpServer().requestHandler(req -> {
            Path f = repoDir.resolve(req.path().substring(1)).normalize();
            if (f.startsWith(repoDir) && Files.isRegularFile(f)) {
                req.response().sendFile(f.toString());
            } else {
                req.response().setStatusCode(404).end();
            }
        }).listen(artifactPort, net.gateway()).await(10, TimeUnit.SECONDS);
        artifactBase = "http://" + net.gateway() + ":" + artifactPort + "/";

        for (String name : List.of("leader-a", "leader-b")) {
            startLeader(name);
        }
        for (int i = 0; i < HOSTS; i++) {
            var ns = net.host(i);
            ns.execOk("iptables", "-P", "INPUT", "DROP");
            ns.execOk("iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
            ns.execOk("iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
            nodes.add(startNode(i));
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
            assertTrue(apiProcess.alive(), () -> "the API exited:\n" + apiProcess.output());
            return status(apiUrl + "/readyz") == 200;
        });
    }

    /** The TLS etcd as a client reaches it: https endpoints verified with the test CA. */
    static EtcdConfig etcdConfig() {
        return EtcdConfig.of(etcd.endpoints()).withTrustedCa(pki.ca());
    }

    /** The API as an operator runs it: its own JVM, HTTPS, etcd user intent-api, an operator token from a file. */
    static void startApi() throws IOException {
        Files.writeString(work.resolve("token"), OPERATOR_TOKEN);
        Files.writeString(work.resolve("tokens.yaml"), "- {name: ops, role: operator, sha256: "
                + Tokens.hash(OPERATOR_TOKEN) + "}\n");
        int port = io.intent.testkit.Ports.free();
        apiUrl = "https://127.0.0.1:" + port;
        Pki.Cert cert = pki.issue("api", "127.0.0.1");
        apiProcess = JvmProcess.start(List.of(), "io.intent.api.ApiMain", List.of("--etcd",
                String.join(",", etcd.endpoints()), "--etcd-ca", pki.ca().toString(), "--etcd-user", "intent-api",
                "--etcd-password-file", rbac.passwordFile("intent-api").toString(), "--tls-cert",
                cert.cert().toString(), "--tls-key", cert.key().toString(), "--listen", "127.0.0.1", "--port",
                Integer.toString(port),
                "--tokens-file", work.resolve("tokens.yaml").toString()), Map.of(),
                work.resolve("logs/api-" + System.nanoTime() + ".log"));
    }

    static int status(String url) {
        try {
            return apiHttp.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static void startLeader(String name) {
        leaders.put(name, JvmProcess.start(List.of(), "io.intent.leader.LeaderMain", List.of("--name", name,
                "--etcd", String.join(",", etcd.endpoints()), "--etcd-ca", pki.ca().toString(),
                "--etcd-user", "intent-leader",
                "--etcd-password-file", rbac.passwordFile("intent-leader").toString(),
                "--lease-ttl", "2", "--host-grace", "6", "--http-port", "-1"), Map.of(),
                work.resolve("logs/" + name + "-" + System.nanoTime() + ".log")));
    }

    static JvmProcess startNode(int i) {
        String h = host(i);
        return JvmProcess.start(net.host(i).prefix(), "io.intent.node.NodeMain", List.of("--host", h,
                "--address", net.address(i), "--root", work.resolve("hosts/" + h).toString(),
                "--etcd", String.join(",", etcd.endpoints()), "--etcd-ca", pki.ca().toString(), "--etcd-user", h,
                "--etcd-password-file", rbac.passwordFile(h).toString(),
                "--backend", "iptables", "--resync", "5", "--liveness-ttl", "2", "--http-port", "-1",
                "--stop-timeout", "3"), Map.of(), work.resolve("logs/" + h + "-" + System.nanoTime() + ".log"));
    }

    @AfterAll
    static void stopTheSystem() throws Exception {
        if (apiProcess != null) {
            apiProcess.close();
        }
        leaders.values().forEach(JvmProcess::close);
        nodes.forEach(JvmProcess::close);
        if (work != null) {
            for (int i = 0; i < HOSTS; i++) {
                Path root = work.resolve("hosts/" + host(i));
                try {
                    io.intent.setlive.Runsvdir.shutdown(root.resolve("services"), root.resolve("setlive"),
                            Duration.ofSeconds(5));
                } catch (IOException | RuntimeException e) {
                    System.err.println("could not stop apps of " + root + ": " + e);
                }
            }
        }
        if (artifacts != null) {
            artifacts.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (etcd != null) {
            etcd.close();
        }
        if (net != null) {
            net.close();
        }
    }

    /** The web app as an intentctl manifest (JSON is YAML): versions 1.0 and 2.0 of the demo app. */
    static String web(String active, int scale) {
        return "{\"name\":\"web\",\"versions\":{"
                + "\"1.0\":{\"artifact\":\"" + artifactBase + "demo-web-1.0.tar\",\"sha256\":\""
                + digests.get("demo-web-1.0.tar") + "\"},"
                + "\"2.0\":{\"artifact\":\"" + artifactBase + "demo-web-2.0.tar\",\"sha256\":\""
                + digests.get("demo-web-2.0.tar") + "\"}},"
                + "\"active\":\"" + active + "\",\"run\":{\"command\":[\"bin/server\"]},"
                + "\"ports\":[{\"name\":\"http\",\"port\":" + PORT + "}],"
                + "\"health\":{\"http\":\"/healthz\",\"timeoutSeconds\":20},\"scale\":" + scale + "}";
    }

    /**
     * Runs intentctl (its real command line, in this JVM) against the API with the operator token; every write
     * it makes carries an Idempotency-Key. Returns what it printed; fails on a non-zero exit.
     */
    static String ctl(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--api", apiUrl, "--cacert", pki.ca().toString(), "--token-file",
                work.resolve("token").toString()));
        StringWriter out = new StringWriter();
        var cl = IntentCtl.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int code = cl.execute(all.toArray(String[]::new));
        assertEquals(0, code, () -> "intentctl " + String.join(" ", args) + " exited " + code + ":\n" + out);
        return out.toString();
    }

    /** Applies the whole web intent from a manifest file, as an operator would. */
    static void apply(String active, int scale) {
        try {
            Path f = Files.writeString(work.resolve("web.json"), web(active, scale));
            ctl("apply", "-f", f.toString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static AppIntent stored() {
        return admin.get(admin.keys().app("web"), AppIntent.class).orElseThrow().value();
    }

    /** What host i answers on the app port, through its firewall: the version, or null. */
    static String answer(int i) {
        try {
            var r = http.send(HttpRequest.newBuilder(URI.create("http://" + net.address(i) + ":" + PORT + "/"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body().strip() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static Set<String> placedHosts() {
        return admin.get(admin.keys().placement("web"), Placement.class).filter(e -> e.valid())
                .map(e -> new TreeSet<>(e.value().hosts())).map(s -> (Set<String>) s).orElse(Set.of());
    }

    static int index(String host) {
        return Integer.parseInt(host.substring(1)) - 1;
    }

    /** Waits until exactly {@code count} hosts are placed and each answers {@code version}, and no other does. */
    static Set<String> awaitServing(String version, int count) {
        await().atMost(CONVERGE).pollInterval(Duration.ofMillis(500)).until(() -> {
            Set<String> placed = placedHosts();
            if (placed.size() != count) {
                return false;
            }
            for (int i = 0; i < HOSTS; i++) {
                String a = answer(i);
                if (placed.contains(host(i)) ? !version.equals(a) : a != null) {
                    return false;
                }
            }
            return true;
        });
        return placedHosts();
    }

    @Test
    @Order(1)
    void deployUpgradeRollbackAndScale() {
        apply("1.0", 2);
        Set<String> placed = awaitServing("1.0", 2);
        ctl("deploy", "web", "2.0");
        assertEquals(placed, awaitServing("2.0", 2), "an upgrade must not move instances");
        ctl("rollback", "app", "web");
        assertEquals("1.0", stored().active());
        awaitServing("1.0", 2);
        ctl("scale", "web", "3");
        awaitServing("1.0", 3);
        ctl("scale", "web", "1");
        awaitServing("1.0", 1);
    }

    @Test
    @Order(2)
    void aHostThatDiesLosesItsInstanceToAnother() {
        apply("1.0", 2);
        Set<String> before = awaitServing("1.0", 2);
        int victim = index(before.iterator().next());
        net.link(victim, false); // the host drops off the network: its liveness lease expires
        try {
            await().atMost(CONVERGE).until(() -> !placedHosts().contains(host(victim)) && placedHosts().size() == 2);
            Set<String> after = placedHosts();
            await().atMost(CONVERGE).until(() -> after.stream().allMatch(h -> "1.0".equals(answer(index(h)))));
        } finally {
            net.link(victim, true);
        }
        // back on the network, the host sees its assignment gone and stops the app
        await().atMost(CONVERGE).until(() -> answer(victim) == null);
    }

    @Test
    @Order(3)
    void killingTheLeaderMidRolloutLosesNothing() throws Exception {
        ctl("scale", "web", "3");
        awaitServing("1.0", 3);
        String leader = LeaderElection.whoLeads(admin).orElseThrow().name();
        ctl("deploy", "web", "2.0");
        leaders.get(leader).kill9();
        awaitServing("2.0", 3);
        String next = LeaderElection.whoLeads(admin).orElseThrow().name();
        assertNotEquals(leader, next);
        startLeader(leader);
    }

    @Test
    @Order(4)
    void losingOneEtcdMemberChangesNothingForOperators() {
        int member = Math.max(0, etcd.leaderIndex());
        etcd.kill(member);
        try {
            apply("1.0", 3);
            awaitServing("1.0", 3);
        } finally {
            etcd.restart(member);
        }
    }

    @Test
    @Order(5)
    void losingQuorumTearsNothingDownAndTheSystemRecovers() throws Exception {
        awaitServing("1.0", 3);
        etcd.kill(0);
        etcd.kill(1);
        AtomicInteger misses = new AtomicInteger();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        while (System.nanoTime() < until) {
            for (int i = 0; i < HOSTS; i++) {
                if (!"1.0".equals(answer(i))) {
                    misses.incrementAndGet();
                }
            }
            Thread.sleep(500);
        }
        assertEquals(0, misses.get(), "apps must keep serving while etcd has no quorum");
        etcd.restart(0);
        etcd.restart(1);
        ctl("deploy", "web", "2.0");
        awaitServing("2.0", 3);
    }

    @Test
    @Order(6)
    void aHostsEtcdUserCannotReadAnotherHostsSlice() throws Exception {
        var base = etcdConfig();
        try (EtcdStore h1 = EtcdStore.connect(base.withCredentials("h1", rbac.password("h1")))) {
            assertFalse(h1.list(h1.keys().assignSlice("h1"), Assignment.class).entries().isEmpty());
            var denied = assertThrows(PermissionDeniedException.class, () -> h1.list(h1.keys().assignSlice("h2"),
                    Assignment.class));
            assertTrue(denied.getMessage().contains("permission denied"), denied.getMessage());
            assertThrows(PermissionDeniedException.class, () -> h1.put(h1.keys().app("web"), stored()));
        }
    }

    @Test
    @Order(7)
    void etcdRefusedNoProcessAnythingNotEvenWhenStopping() throws Exception {
        // stopping gracefully resigns the leadership and revokes leases: their keys need the roles' write too
        String leading = LeaderElection.whoLeads(admin).orElseThrow().name();
        assertTrue(leaders.get(leading).terminate(30), "the leader did not stop on SIGTERM");
        assertTrue(nodes.get(HOSTS - 1).terminate(30), "a node did not stop on SIGTERM");
        assertTrue(apiProcess.terminate(30), "the API did not stop on SIGTERM");
        try (var logs = Files.list(work.resolve("logs"))) {
            for (Path log : logs.toList()) {
                String text = Files.readString(log);
                assertFalse(text.toLowerCase(java.util.Locale.ROOT).contains("permission denied")
                        || text.contains("PERMISSION_DENIED"), log + " shows etcd refusing its user:\n" + text);
            }
        }
    }
}
