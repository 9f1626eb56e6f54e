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
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import io.intent.testkit.ContainerHost;
import io.intent.testkit.ContainerHosts;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Pki;
import io.intent.testkit.Ports;
import io.intent.testkit.Rbac;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole path across several machines, each machine a real container (Testcontainers, {@link ContainerHosts}),
 * configured as in production: a 3-member etcd as three containers speaking TLS only on every client and peer
 * connection (a private CA made at test time by etc/tls/make-certs.sh) with auth on (one etcd user per host,
 * from etc/etcd/setup-rbac.sh), two leader JVMs and the API (its own JVM, etcd user intent-api, serving HTTPS)
 * on this machine, and three host containers, each with its own network stack, file system and processes:
 * INPUT policy DROP, runit supervising {@code intent-node} (kernel iptables backend) and the apps. Every process
 * verifies etcd with {@code --etcd-ca}. Faults are Docker's: a host cut off the network, frozen, crashed and
 * rebooted; etcd members crashed and cut off. Operators' writes go through the API with intentctl
 * ({@code --cacert}). The scenarios share the system, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerEndToEndTest {
    static final Duration CONVERGE = Duration.ofSeconds(90);
    static final int HOSTS = 3;
    static final int PORT = 8080;
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final String OPERATOR_TOKEN = "e2e-operator-token-0123456789";
    static final int LIVENESS_TTL = 2;
    static final int HOST_GRACE = 6;

    static Path work;
    static ContainerHosts machines;
    static EtcdStore admin;
    static Rbac rbac;
    static Pki pki;
    static HttpClient tlsHttp; // trusts the test CA only
    static JvmProcess apiProcess;
    static String apiUrl;
    static Vertx artifacts;
    static String artifactBase;
    static Map<String, String> digests;
    static ContainerHost client;
    /** The etcd user that {@link #aHostsEtcdUserCannotReadAnotherHostsSlice} makes write intent, on purpose. */
    static String refusedOnPurpose = "";
    static final Map<String, JvmProcess> leaders = new HashMap<>();
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(800)).build();

    static String host(int i) {
        return "h" + (i + 1);
    }

    static ContainerHost machine(String h) {
        return machines.host(h);
    }

    @BeforeAll
    static void startTheSystem() throws Exception {
        work = Files.createTempDirectory("intent-container-e2e-");
        pki = Pki.create(work.resolve("tls"));
        tlsHttp = HttpClient.newBuilder().sslContext(pki.sslContext()).connectTimeout(Duration.ofMillis(800))
                .build();
        machines = ContainerHosts.startTls(3, work.resolve("logs"), pki);
        String[] hosts = new String[HOSTS];
        for (int i = 0; i < HOSTS; i++) {
            hosts[i] = host(i);
        }
        rbac = Rbac.setup(machines.etcdEndpoints(), pki.ca(), work, hosts); // etcdctl gets ETCDCTL_CACERT
        admin = EtcdStore.connect(etcdConfig().withCredentials("root", Rbac.ROOT_PASSWORD));
        startApi();

        digests = DemoArtifacts.build(REPO.resolve("test-data/demo-app"), work.resolve("repo"));
        int artifactPort = Ports.free();
        artifacts = Vertx.vertx();
        Path repoDir = work.resolve("repo");
        artifacts.createHttpServer().requestHandler(req -> {
            Path f = repoDir.resolve(req.path().substring(1)).normalize();
            if (f.startsWith(repoDir) && Files.isRegularFile(f)) {
                req.response().sendFile(f.toString());
            } else {
                req.response().setStatusCode(404).end();
            }
        }).listen(artifactPort, machines.gateway()).await(10, TimeUnit.SECONDS);
        artifactBase = "http://" + machines.gateway() + ":" + artifactPort + "/";

        for (String name : List.of("leader-a", "leader-b")) {
            startLeader(name);
        }
        machines.addHosts(List.of(hosts), h -> Map.of("INTENT_ETCD", String.join(",", machines.etcdEndpoints()),
                "INTENT_ETCD_USER", h, "INTENT_ETCD_PASSWORD_FILE", "/etc/intent/secrets/" + h + ".password",
                "INTENT_RESYNC", "5", "INTENT_LIVENESS_TTL", Integer.toString(LIVENESS_TTL),
                "INTENT_STOP_TIMEOUT", "3"), h -> Map.of("/etc/intent/secrets/" + h + ".password", rbac.password(h)));
        client = machines.addClient("client");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
            assertTrue(apiProcess.alive(), () -> "the API exited:\n" + apiProcess.output());
            return status(apiUrl + "/readyz") == 200;
        });
        // every host's node is up: registered and live
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> admin.count(admin.keys().livePrefix()) == HOSTS);
    }

    /** The TLS etcd as a client on this machine reaches it: https endpoints verified with the test CA. */
    static EtcdConfig etcdConfig() {
        return EtcdConfig.of(machines.etcdEndpoints()).withTrustedCa(pki.ca());
    }

    /** The API as an operator runs it: its own JVM, HTTPS, etcd user intent-api, an operator token from a file. */
    static void startApi() throws IOException {
        Files.writeString(work.resolve("token"), OPERATOR_TOKEN);
        Files.writeString(work.resolve("tokens.yaml"), "- {name: ops, role: operator, sha256: "
                + Tokens.hash(OPERATOR_TOKEN) + "}\n");
        int port = Ports.free();
        apiUrl = "https://127.0.0.1:" + port;
        Pki.Cert cert = pki.issue("api", "127.0.0.1");
        apiProcess = JvmProcess.start(List.of(), "io.intent.api.ApiMain", List.of("--etcd",
                String.join(",", machines.etcdEndpoints()), "--etcd-ca", pki.ca().toString(), "--etcd-user",
                "intent-api", "--etcd-password-file", rbac.passwordFile("intent-api").toString(),
                "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString(),
                "--listen", "127.0.0.1", "--port", Integer.toString(port),
                "--tokens-file", work.resolve("tokens.yaml").toString()), Map.of(),
                work.resolve("logs/api-" + System.nanoTime() + ".log"));
    }

    static void startLeader(String name) {
        leaders.put(name, JvmProcess.start(List.of(), "io.intent.leader.LeaderMain", List.of("--name", name,
                "--etcd", String.join(",", machines.etcdEndpoints()), "--etcd-ca", pki.ca().toString(),
                "--etcd-user", "intent-leader",
                "--etcd-password-file", rbac.passwordFile("intent-leader").toString(),
                "--lease-ttl", "2", "--host-grace", Integer.toString(HOST_GRACE), "--http-port", "-1"), Map.of(),
                work.resolve("logs/" + name + "-" + System.nanoTime() + ".log")));
    }

    @AfterAll
    static void stopTheSystem() {
        if (apiProcess != null) {
            apiProcess.close();
        }
        leaders.values().forEach(JvmProcess::close);
        if (artifacts != null) {
            artifacts.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (machines != null) {
            machines.close(); // every container, apps and etcd included, and the network
        }
    }

    /** The status {@code url} answers, over HTTPS verified with the test CA; -1 when nothing answers. */
    static int status(String url) {
        return status(tlsHttp, url);
    }

    static int status(HttpClient client, String url) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The web app as an intentctl manifest (JSON is YAML): versions 1.0 and 2.0, port 8080 open to sources. */
    static String web(String active, int scale, List<String> sources) {
        return "{\"name\":\"web\",\"versions\":{"
                + "\"1.0\":{\"artifact\":\"" + artifactBase + "demo-web-1.0.tar\",\"sha256\":\""
                + digests.get("demo-web-1.0.tar") + "\"},"
                + "\"2.0\":{\"artifact\":\"" + artifactBase + "demo-web-2.0.tar\",\"sha256\":\""
                + digests.get("demo-web-2.0.tar") + "\"}},"
                + "\"active\":\"" + active + "\",\"run\":{\"command\":[\"bin/server\"]},"
                + "\"ports\":[{\"name\":\"http\",\"port\":" + PORT
                + (sources.isEmpty() ? "" : ",\"sources\":[\"" + String.join("\",\"", sources) + "\"]") + "}],"
                + "\"health\":{\"http\":\"/healthz\",\"timeoutSeconds\":20},\"scale\":" + scale + "}";
    }

    /**
     * Runs intentctl (its real command line, in this JVM) against the API over HTTPS (--cacert) with the operator
     * token; every write it makes carries an Idempotency-Key. Returns what it printed; fails on a non-zero exit.
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

    static void apply(String active, int scale, List<String> sources) {
        try {
            Path f = Files.writeString(work.resolve("web.json"), web(active, scale, sources));
            ctl("apply", "-f", f.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void apply(String active, int scale) {
        apply(active, scale, List.of());
    }

    static AppIntent stored() {
        return admin.get(admin.keys().app("web"), AppIntent.class).orElseThrow().value();
    }

    /** What host {@code h} answers this machine on the app port, through its firewall: the version, or null. */
    static String answer(String h) {
        try {
            var r = http.send(HttpRequest.newBuilder(URI.create("http://" + machine(h).address() + ":" + PORT + "/"))
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

    /** Waits until exactly {@code count} hosts are placed and each answers {@code version}, and no other does. */
    static Set<String> awaitServing(String version, int count) {
        await().atMost(CONVERGE).pollInterval(Duration.ofMillis(500)).until(() -> {
            Set<String> placed = placedHosts();
            if (placed.size() != count) {
                return false;
            }
            for (int i = 0; i < HOSTS; i++) {
                String a = answer(host(i));
                if (placed.contains(host(i)) ? !version.equals(a) : a != null) {
                    return false;
                }
            }
            return true;
        });
        return placedHosts();
    }

    /** The pid of web's process on every host that runs it, read from runit inside each container. */
    static Map<String, Long> webPids() {
        Map<String, Long> out = new TreeMap<>();
        for (ContainerHost h : machines.hosts()) {
            h.appPid("web").ifPresent(p -> out.put(h.name(), p));
        }
        return out;
    }

    @Test
    @Order(0)
    void etcdAndTheApiAnswerOnlyOverTls() {
        String member = machines.etcdEndpoints().get(0);
        assertTrue(member.startsWith("https://"), member);
        assertEquals(200, status(member + "/health"), "etcd answers over TLS, verified with the test CA");
        assertNotEquals(200, status(http, member.replaceFirst("^https:", "http:") + "/health"),
                "etcd answered plain HTTP");
        assertNotEquals(200, status(http, apiUrl.replaceFirst("^https:", "http:") + "/readyz"),
                "the API answered plain HTTP");
    }

    @Test
    @Order(1)
    void anAppAnswersAnotherMachineOnlyWhileIntentHasOpenedItsPortToIt() {
        // web runs on every host, its port open to this machine only: the firewall is the one thing between
        // the client container and a running, listening app
        apply("1.0", 3, List.of(machines.gateway() + "/32"));
        awaitServing("1.0", 3);
        ContainerHost h1 = machine("h1");
        assertEquals(Optional.of("1.0"), h1.fetch(h1.address(), PORT), "inside h1 the app answers on its address");
        assertTrue(h1.firewall().contains("-P INPUT DROP"), h1.firewall());
        // each probe gives up after 3 s, and docker exec is slow on a loaded machine: room to poll a few times
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(45))
                .until(() -> client.fetch(h1.address(), PORT).isEmpty());

        apply("1.0", 3); // the port open to anyone
        await().atMost(CONVERGE).until(() -> client.fetch(h1.address(), PORT).equals(Optional.of("1.0")));
        assertTrue(h1.firewall().contains("--dport " + PORT), h1.firewall());

        ctl("delete", "app", "web");
        await().atMost(CONVERGE).until(() -> client.fetch(h1.address(), PORT).isEmpty()
                && !h1.firewall().contains("--dport " + PORT));
    }

    @Test
    @Order(2)
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
    @Order(3)
    void aHostCutOffTheNetworkLosesItsInstanceToAnotherAndStopsItWhenItIsBack() {
        apply("1.0", 2);
        Set<String> before = awaitServing("1.0", 2);
        ContainerHost victim = machine(before.iterator().next());
        long pid = victim.appPid("web").orElseThrow();
        victim.disconnect(); // docker network disconnect: its liveness lease expires
        try {
            await().atMost(CONVERGE).until(() -> !placedHosts().contains(victim.name()) && placedHosts().size() == 2);
            Set<String> after = placedHosts();
            await().atMost(CONVERGE).until(() -> after.stream().allMatch(h -> "1.0".equals(answer(h))));
            // its network interface is gone with the network, so nobody can ask it; but the app still runs
            assertEquals(Optional.of(pid), victim.appPid("web"),
                    "cut off, the host keeps its app running: nothing tears an app down for want of etcd");
        } finally {
            victim.reconnect();
        }
        // back on the network, the host sees its assignment gone and stops the app
        await().atMost(CONVERGE).until(() -> answer(victim.name()) == null && victim.appPid("web").isEmpty());
    }

    @Test
    @Order(4)
    void aHostThatCrashesIsReplacedAndRebootedRunsOnlyWhatItIsAssigned() {
        apply("1.0", 2);
        Set<String> before = awaitServing("1.0", 2);
        ContainerHost victim = machine(before.iterator().next());
        victim.crash(); // every process in it, node and apps, SIGKILLed at once
        await().atMost(CONVERGE).until(() -> !placedHosts().contains(victim.name()) && placedHosts().size() == 2);
        Set<String> after = placedHosts();
        await().atMost(CONVERGE).until(() -> after.stream().allMatch(h -> "1.0".equals(answer(h))));

        victim.restart(); // a reboot: same disk, same address, firewall closed again, runit starts the node
        await().atMost(CONVERGE).until(() -> admin.get(admin.keys().live(victim.name()), Object.class).isPresent());
        await().atMost(CONVERGE).until(() -> answer(victim.name()) == null && victim.appPid("web").isEmpty());
        assertTrue(victim.firewall().contains("-P INPUT DROP"), victim.firewall());
        assertEquals(after, awaitServing("1.0", 2), "the reboot moved nothing back");
    }

    @Test
    @Order(5)
    void killingTheLeaderMidRolloutLosesNothing() {
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
    @Order(6)
    void losingOneEtcdMemberOrCuttingItOffChangesNothingForOperators() {
        int member = Math.max(0, machines.etcdLeaderIndex());
        machines.etcdMember(member).crash();
        try {
            apply("1.0", 3);
            awaitServing("1.0", 3);
        } finally {
            machines.etcdMember(member).restart();
            machines.awaitEtcdHealthy(member, Duration.ofSeconds(60));
        }
        int cut = Math.max(0, machines.etcdLeaderIndex());
        machines.etcdMember(cut).disconnect(); // the leading member partitioned from its peers and clients
        try {
            ctl("deploy", "web", "2.0");
            awaitServing("2.0", 3);
        } finally {
            machines.etcdMember(cut).reconnect();
            machines.awaitEtcdHealthy(cut, Duration.ofSeconds(60));
        }
    }

    @Test
    @Order(7)
    void losingQuorumTearsNothingDownAndTheSystemRecovers() throws Exception {
        // whatever version the last scenario left active: a rollout back to 1.0 first would prove nothing more
        String active = stored().active();
        String next = active.equals("1.0") ? "2.0" : "1.0";
        apply(active, 3);
        awaitServing(active, 3);
        Map<String, Long> pids = webPids();
        machines.etcdMember(0).crash();
        machines.etcdMember(1).crash();
        AtomicInteger misses = new AtomicInteger();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        while (System.nanoTime() < until) {
            for (int i = 0; i < HOSTS; i++) {
                if (!active.equals(answer(host(i)))) {
                    misses.incrementAndGet();
                }
            }
            Thread.sleep(500);
        }
        assertEquals(0, misses.get(), "apps must keep serving while etcd has no quorum");
        machines.etcdMember(0).restart();
        machines.etcdMember(1).restart();
        for (int i = 0; i < 3; i++) {
            machines.awaitEtcdHealthy(i, Duration.ofSeconds(60));
        }
        assertEquals(pids, webPids(), "no app was restarted");
        ctl("deploy", "web", next);
        awaitServing(next, 3);
    }

    @Test
    @Order(8)
    void aPartitionOfEveryHostFromEtcdAndItsHealingLoseNoRunningApp() throws Exception {
        String active = stored().active();
        apply(active, 3);
        awaitServing(active, 3);
        Map<String, Long> pids = webPids();
        assertEquals(HOSTS, pids.size());
        List<String> deleted = new CopyOnWriteArrayList<>();
        try (SliceWatch<Assignment> audit = admin.watchSlice(admin.keys().assignPrefix(), Assignment.class,
                (changes, rev, relisted) -> changes.forEach(c -> {
                    if (c.kind() == SliceWatch.Kind.DELETE) {
                        deleted.add(c.key());
                    }
                }))) {
            // every host cut off the network for the liveness TTL + the host grace + 5 s; apps keep running
            machines.hosts().forEach(ContainerHost::disconnect);
            try {
                await().pollDelay(Duration.ofSeconds(LIVENESS_TTL + HOST_GRACE + 5)).atMost(CONVERGE).until(() ->
                        admin.get(admin.keys().placement("web"), Placement.class).map(e -> String.valueOf(e.value()))
                                .orElse("").contains("disruption mode"));
                // docker network disconnect takes the interface away, so nobody can ask them; but the apps run
                assertEquals(pids, webPids(), "every host kept its app running, alone");
            } finally {
                machines.hosts().forEach(ContainerHost::reconnect);
            }
            await().atMost(CONVERGE).until(() -> !String.valueOf(admin.get(admin.keys().placement("web"),
                    Placement.class).map(e -> e.value()).orElse(null)).contains("unreachable"));
            awaitServing(active, 3);
            await().during(Duration.ofSeconds(2)).atMost(CONVERGE).until(() -> webPids().equals(pids));
        }
        assertEquals(List.of(), deleted, "no assignment was deleted");
    }

    @Test
    @Order(9)
    void aFrozenHostIsReplacedAndThawedHandsItsInstanceOver() {
        apply("1.0", 2);
        Set<String> before = awaitServing("1.0", 2);
        ContainerHost frozen = machine(before.iterator().next());
        frozen.pause(); // docker pause: node and app frozen, the address still routed
        try {
            await().atMost(CONVERGE).until(() -> !placedHosts().contains(frozen.name()) && placedHosts().size() == 2);
        } finally {
            frozen.unpause();
        }
        await().atMost(CONVERGE).until(() -> answer(frozen.name()) == null);
        awaitServing("1.0", 2);
    }

    @Test
    @Order(10)
    void aHostsEtcdUserCannotReadAnotherHostsSlice() {
        String own = placedHosts().iterator().next();
        String other = own.equals("h1") ? "h2" : "h1";
        refusedOnPurpose = own;
        try (EtcdStore h = EtcdStore.connect(etcdConfig().withCredentials(own, rbac.password(own)))) {
            assertFalse(h.list(h.keys().assignSlice(own), Assignment.class).entries().isEmpty(),
                    "a host reads its own slice");
            var denied = assertThrows(PermissionDeniedException.class, () -> h.list(h.keys().assignSlice(other),
                    Assignment.class));
            assertTrue(denied.getMessage().contains("permission denied"), denied.getMessage());
            assertThrows(PermissionDeniedException.class, () -> h.put(h.keys().app("web"), stored()));
        }
    }

    @Test
    @Order(11)
    void etcdRefusedNoProcessAnythingNotEvenWhenStopping() throws Exception {
        // stopping gracefully resigns the leadership and revokes leases: their keys need the roles' write too
        String leading = LeaderElection.whoLeads(admin).orElseThrow().name();
        assertTrue(leaders.get(leading).terminate(30), "the leader did not stop on SIGTERM");
        ContainerHost last = machine(host(HOSTS - 1));
        last.execOk("sv", "-w", "30", "down", "/etc/intent-host/service/intent-node"); // runit: SIGTERM, wait
        assertTrue(apiProcess.terminate(30), "the API did not stop on SIGTERM");
        try (var logs = Files.list(work.resolve("logs"))) {
            for (Path log : logs.toList()) {
                // etcd's own logs (m0.log, …) name the refused request; the one refused on purpose above is no fault
                String onPurpose = "username:\\\"" + refusedOnPurpose + "\\\"";
                List<String> refused = Files.readAllLines(log).stream()
                        .filter(l -> l.toLowerCase(java.util.Locale.ROOT).contains("permission denied")
                                || l.contains("PERMISSION_DENIED"))
                        .filter(l -> !(l.contains(onPurpose) && l.contains("key:\\\"/intent/apps/web\\\"")))
                        .toList();
                assertEquals(List.of(), refused, log + " shows etcd refusing a user");
            }
        }
    }
}
