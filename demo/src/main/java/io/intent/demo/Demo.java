package io.intent.demo;

import io.intent.store.KeyLayout;
import io.intent.daemon.Logging;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.store.model.VersionSpec;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./intent demo}: a local etcd, two leader candidates, the API with its web page, and simulated hosts
 * (127.0.0.2, .3, …), each running the three agents in its own sandbox root with the {@code file} iptables
 * backend and runit. Loads {@code test-data/demo/}, waits until it has converged, prints what to try, and
 * stops everything it started on Ctrl-C. Running it again starts from a clean slate.
 */
// Long (about 430 lines): ./intent demo's whole script (build, start, write, wait, print, stop) for both the
// process and the --containers flavour; the pieces it drives (DemoArtifacts, LocalEtcd, the child processes)
// are classes of their own.
@Command(name = "intent demo", mixinStandardHelpOptions = true,
        description = "Runs intent on this machine: etcd, two leaders, the API, simulated hosts; Ctrl-C stops it.")
public final class Demo implements Callable<Integer> {
    /** Where the demo intents point their artifacts: the demo's own artifact server. */
    static final int ARTIFACT_PORT = 18080;

    @Option(names = "--hosts", defaultValue = "3", description = "simulated hosts (2-20). Default: ${DEFAULT-VALUE}")
    int hosts;

    @Option(names = "--state-dir", defaultValue = ".intent-demo",
            description = "where etcd data, host roots and logs go (git-ignored). Default: ${DEFAULT-VALUE}")
    Path stateDir;

    @Option(names = "--api-port", defaultValue = "8080", description = "API and web page port. Default: ${DEFAULT-VALUE}")
    int apiPort;

    @Option(names = "--etcd-port", defaultValue = "23790", description = "etcd client port. Default: ${DEFAULT-VALUE}")
    int etcdPort;

    @Option(names = "--timeout", defaultValue = "180", description = "seconds to wait for convergence. Default: ${DEFAULT-VALUE}")
    int timeoutSeconds;

    @Option(names = "--exit-when-converged", description = "stop everything once converged (for tests and CI)")
    boolean exitWhenConverged;

    @Option(names = "--containers", description = "run etcd and every host as a container (needs dockerd): each host "
            + "its own network stack, a real firewall (INPUT DROP, the kernel iptables backend) and runit")
    boolean containers;

    private final Children children = new Children();
    /** In --containers mode: the Docker network, etcd and the host containers. */
    private io.intent.testkit.ContainerHosts machines;
    /** Host name to the address its apps answer on. */
    private final Map<String, String> addresses = new java.util.TreeMap<>();
    private Vertx vertx;
    private boolean stopped;
    private String token;

    static String newToken() {
        byte[] b = new byte[18];
        new java.security.SecureRandom().nextBytes(b);
        return "demo-" + java.util.HexFormat.of().formatHex(b);
    }

    public static void main(String[] args) {
        Logging.init();
        System.exit(new CommandLine(new Demo()).execute(args));
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("test-data/demo-app"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("run the demo from the intent checkout (test-data/demo-app not found)");
        }
        return p;
    }

    @Override
    public Integer call() throws Exception {
        if (hosts < 2 || hosts > 20) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--hosts must be 2-20");
        }
        Path repo = repoRoot();
        stateDir = repo.resolve(stateDir).toAbsolutePath().normalize();
        cleanUpEarlierRun();
        Files.createDirectories(stateDir.resolve("logs"));
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "demo-stop"));
        try {
            return run(repo);
        } finally {
            if (exitWhenConverged) {
                stop(); // now, not at JVM exit: a caller in the same JVM (a test) finds everything gone
            }
        }
    }

    private int run(Path repo) throws Exception {
        say("building the demo artifacts from test-data/demo-app");
        Map<String, String> digests = DemoArtifacts.build(repo.resolve("test-data/demo-app"), stateDir.resolve("repo"));
        String etcd = startEtcd();
        // the containers reach this machine at the network's gateway
        String artifactAddress = containers ? machines.gateway() : "127.0.0.1";
        Map<String, AppIntent> intents = loadIntents(repo.resolve("test-data/demo"), artifactAddress);
        checkDigests(intents, digests);
        serveArtifacts(stateDir.resolve("repo"), artifactAddress);
        say("etcd is up at " + etcd);
        int api = startLeadersApiAndHosts(etcd);

        try (EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd))) {
            for (var e : intents.entrySet()) {
                store.put(store.keys().app(e.getKey()), e.getValue());
                say("wrote intent " + store.keys().app(e.getKey()) + " (active " + e.getValue().active() + ", scale "
                        + e.getValue().scaleOrDefault() + ")");
            }
            long t0 = System.nanoTime();
            if (!awaitConverged(store, intents, Duration.ofSeconds(timeoutSeconds))) {
                say("NOT converged within " + timeoutSeconds + " s: see the logs in " + stateDir.resolve("logs")
                        + " and `etcdctl --endpoints " + etcd + " get --prefix /intent/status/`");
                return 1;
            }
            say(String.format("converged in %.1f s", (System.nanoTime() - t0) / 1e9));
            printBanner(store, etcd, api, intents);
        }
        if (exitWhenConverged) {
            return 0;
        }
        new CountDownLatch(1).await();
        return 0;
    }

    /** Starts etcd (a local process, or a container with --containers); returns its client URL. */
    private String startEtcd() throws Exception {
        if (containers) {
            say("starting etcd and " + hosts + " hosts as containers (the first run builds the host image: "
                    + "a few minutes, see docs/container-hosts.md)");
            machines = io.intent.testkit.ContainerHosts.start(1, stateDir.resolve("logs"));
            return machines.etcdEndpoints().get(0);
        }
        int port = LocalEtcd.port(etcdPort);
        children.add("etcd", LocalEtcd.start(stateDir.resolve("etcd"), port, LocalEtcd.port(0), log("etcd")),
                log("etcd"));
        return "http://127.0.0.1:" + port;
    }

    /** Starts two leader candidates, the API and the hosts; returns the API's port. */
    private int startLeadersApiAndHosts(String etcd) throws Exception {
        Map<String, String> env = Map.of("INTENT_ETCD", etcd);
        for (String name : List.of("leader-a", "leader-b")) {
            children.java(name, "io.intent.leader.LeaderMain", List.of("--name", name, "--lease-ttl", "5",
                    "--host-grace", "30", "--http-port", "0"), env, log(name));
        }
        int api = LocalEtcd.port(apiPort);
        token = newToken();
        Path tokens = stateDir.resolve("tokens.yaml");
        Files.writeString(tokens, "# the demo's one API token (admin); printed when the demo is up\n"
                + "- {name: demo-admin, role: admin, sha256: " + DemoArtifacts.sha256(token.getBytes(
                java.nio.charset.StandardCharsets.UTF_8)) + "}\n");
        children.java("api", "io.intent.api.ApiMain", List.of("--port", Integer.toString(api), "--tokens-file",
                tokens.toString()), env, log("api"));
        for (int i = 1; i <= hosts; i++) {
            String host = "h" + i;
            String zone = "zone=" + (i % 2 == 0 ? "b" : "a");
            if (containers) {
                var h = machines.addHost(host, Map.of("INTENT_ETCD", etcd, "INTENT_RESYNC", "10", "INTENT_LABEL", zone),
                        Map.of());
                addresses.put(host, h.address());
            } else {
                addresses.put(host, "127.0.0." + (i + 1));
                children.java(host, "io.intent.node.NodeMain", List.of("--host", host, "--address",
                        addresses.get(host), "--root", hostRoot(host).toString(), "--backend", "file", "--resync",
                        "10", "--label", zone, "--http-port", "0"), env, log(host));
            }
        }
        say("started 2 leader candidates, the API and " + hosts + " hosts (logs in " + stateDir.resolve("logs") + ")");
        return api;
    }

    /** The demo intents: every {@code *.yaml} in {@code dir}, in intentctl's apply format, each validated. */
    static Map<String, AppIntent> loadIntents(Path dir) throws IOException {
        return loadIntents(dir, "127.0.0.1");
    }

    /** Like {@link #loadIntents(Path)}, with the artifacts served on {@code artifactAddress} instead of 127.0.0.1. */
    static Map<String, AppIntent> loadIntents(Path dir, String artifactAddress) throws IOException {
        Map<String, AppIntent> apps = new java.util.LinkedHashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                String text = Files.readString(f).replace("http://127.0.0.1:" + ARTIFACT_PORT + "/",
                        "http://" + artifactAddress + ":" + ARTIFACT_PORT + "/");
                io.intent.cli.Manifest.parse(text).apps().forEach((name, app) ->
                        apps.put(name, io.intent.store.codec.Validation.require(name, app)));
            }
        }
        return apps;
    }

    private Path hostRoot(String host) {
        return stateDir.resolve("hosts").resolve(host);
    }

    private Path log(String name) {
        return stateDir.resolve("logs").resolve(name + ".log");
    }

    private static void say(String s) {
        System.out.println("demo: " + s);
    }

    private static void checkDigests(Map<String, AppIntent> intents, Map<String, String> digests) {
        for (var e : intents.entrySet()) {
            for (VersionSpec v : e.getValue().versions().values()) {
                if (v.artifact() == null) {
                    continue;
                }
                String file = v.artifact().substring(v.artifact().lastIndexOf('/') + 1);
                String actual = digests.get(file);
                if (actual != null && !actual.equals(v.sha256())) {
                    throw new IllegalStateException("test-data/demo: " + e.getKey() + " lists sha256 " + v.sha256()
                            + " for " + file + ", but the build made " + actual
                            + " (test-data/demo-app changed? update the intent)");
                }
            }
        }
    }

    private void serveArtifacts(Path dir, String address) throws Exception {
        vertx = Vertx.vertx();
        vertx.createHttpServer().requestHandler(req -> {
            String name = req.path().substring(1);
            Path f = dir.resolve(name).normalize();
            if (!name.matches("[A-Za-z0-9._-]+") || !f.startsWith(dir) || !Files.isRegularFile(f)) {
                req.response().setStatusCode(404).end();
            } else {
                req.response().sendFile(f.toString());
            }
        }).listen(ARTIFACT_PORT, address).await(10, TimeUnit.SECONDS);
    }

    private boolean awaitConverged(EtcdStore store, Map<String, AppIntent> intents, Duration timeout)
            throws InterruptedException {
        KeyLayout keys = store.keys();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            List<String> waiting = new ArrayList<>();
            for (var e : intents.entrySet()) {
                String app = e.getKey();
                AppIntent intent = e.getValue();
                var placement = store.get(keys.placement(app), Placement.class).filter(x -> x.valid());
                if (placement.isEmpty() || !placement.get().value().complete()) {
                    waiting.add(app + ": " + placement.map(p -> "pending: " + p.value().pendingReason())
                            .orElse("not placed yet"));
                    continue;
                }
                for (String host : placement.get().value().hosts()) {
                    var st = store.get(keys.status(host, app, "setlive"), AgentStatus.class).filter(x -> x.valid());
                    if (st.isEmpty() || st.get().value().phase() != Phase.READY
                            || !intent.active().equals(st.get().value().version())) {
                        waiting.add(app + "@" + host + ": " + st.map(s -> s.value().phase() + " "
                                + s.value().message()).orElse("no setlive status yet"));
                        continue;
                    }
                    String answer = get(http, "http://" + addresses.get(host) + ":" + intent.ports().get(0).port()
                            + "/");
                    if (!intent.active().equals(answer)) {
                        waiting.add(app + "@" + host + ": answers '" + answer + "'");
                    }
                }
            }
            if (waiting.isEmpty()) {
                return true;
            }
            String now = String.join("; ", waiting);
            if (!now.equals(last)) {
                say("waiting for " + now);
                last = now;
            }
            Thread.sleep(500);
        }
        return false;
    }

    private static String get(HttpClient http, String url) {
        try {
            var r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body().strip() : "HTTP " + r.statusCode();
        } catch (IOException e) {
            return "no answer";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    // Long: the banner is the operator's page of what to try next, kept as one readable block of text.
    private void printBanner(EtcdStore store, String etcd, int api, Map<String, AppIntent> intents) {
        String app = intents.keySet().iterator().next();
        AppIntent intent = intents.get(app);
        String other = intent.versions().keySet().stream().filter(v -> !v.equals(intent.active())).findFirst()
                .orElse(intent.active());
        var placement = store.get(store.keys().placement(app), Placement.class).orElseThrow().value();
        StringBuilder sb = new StringBuilder("\n");
        sb.append("intent is running.\n\n");
        sb.append("  web page and API   http://127.0.0.1:").append(api).append("/   (token: ").append(token)
                .append(")\n");
        for (String h : placement.hosts()) {
            sb.append(String.format("  %-18s curl http://%s:%d/%n", app + " on " + h, addresses.get(h),
                    intent.ports().get(0).port()));
        }
        sb.append("  logs               ").append(stateDir.resolve("logs")).append("\n");
        sb.append("\nTry (in another terminal):\n");
        sb.append("  export ETCDCTL_API=3 ETCDCTL_ENDPOINTS=").append(etcd).append("\n");
        sb.append("  etcdctl get --prefix /intent/placement/                 # where each app runs\n");
        sb.append("  etcdctl watch --prefix /intent/status/ &                # every agent's progress, live\n");
        sb.append("  # deploy ").append(other).append(":\n");
        sb.append("  etcdctl get --print-value-only /intent/apps/").append(app).append(" | sed 's/\"active\":\"")
                .append(intent.active()).append("\"/\"active\":\"").append(other).append("\"/' | etcdctl put /intent/apps/")
                .append(app).append("\n");
        sb.append("  # or with intentctl (through the API):\n");
        sb.append("  export INTENT_API=http://127.0.0.1:").append(api).append(" INTENT_TOKEN=").append(token)
                .append("\n");
        sb.append("  ./intent ctl get status\n");
        sb.append("  ./intent ctl deploy ").append(app).append(" ").append(other).append("\n");
        sb.append("  ./intent ctl scale ").append(app).append(" 2\n");
        sb.append("  ./intent ctl drain h2                 # its instances move away\n");
        sb.append("  ./intent ctl rollback app ").append(app).append("           # back to the previous version\n");
        sb.append("  ./intent ctl status --wait ").append(app).append("\n");
        sb.append("  # scale to 2:\n");
        sb.append("  etcdctl get --print-value-only /intent/apps/").append(app).append(" | sed 's/\"scale\":")
                .append(intent.scaleOrDefault()).append("/\"scale\":2/' | etcdctl put /intent/apps/").append(app)
                .append("\n");
        sb.append("  # kill the leader (the standby takes over within the 5 s lease TTL):\n");
        sb.append("  etcdctl get --prefix --keys-only /intent/leader/        # the lowest key leads\n");
        for (var c : children.all()) {
            if (c.name().startsWith("leader")) {
                sb.append("  kill -9 ").append(c.process().pid()).append("    # ").append(c.name()).append("\n");
            }
        }
        if (machines != null) {
            var h = machines.hosts().get(0);
            sb.append("  # every host is a container with its own firewall (INPUT DROP; intent opens the ports):\n");
            sb.append("  docker exec ").append(h.containerName()).append(" iptables -S\n");
            sb.append("  # cut ").append(h.name()).append(" off the network and watch its instances move after the "
                    + "30 s host grace, then bring it back:\n");
            sb.append("  docker network disconnect ").append(machines.networkName()).append(' ')
                    .append(h.containerName()).append("\n");
            sb.append("  docker network connect --ip ").append(h.address()).append(' ').append(machines.networkName())
                    .append(' ').append(h.containerName()).append("\n");
            sb.append("  docker pause ").append(h.containerName()).append("    # freeze it (docker unpause to thaw)\n");
        }
        sb.append("\nCtrl-C stops everything the demo started.\n");
        System.out.println(sb);
    }

    /** Stops what an earlier run may have left (its runsvdirs and apps), then clears the state dir. */
    private void cleanUpEarlierRun() throws IOException {
        if (!Files.isDirectory(stateDir)) {
            return;
        }
        stopApps();
        try (Stream<Path> walk = Files.walk(stateDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void stopApps() {
        Path hostsDir = stateDir.resolve("hosts");
        if (!Files.isDirectory(hostsDir)) {
            return;
        }
        try (Stream<Path> roots = Files.list(hostsDir)) {
            for (Path root : roots.toList()) {
                try {
                    io.intent.setlive.Runsvdir.shutdown(root.resolve("services"), root.resolve("setlive"),
                            Duration.ofSeconds(5));
                } catch (IOException | RuntimeException e) {
                    System.err.println("demo: could not stop the apps under " + root + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            System.err.println("demo: " + e.getMessage());
        }
    }

    private synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        System.out.println("\ndemo: stopping everything it started");
        children.stopAll(15);
        if (machines != null) {
            machines.close(); // the containers, their apps with them, and the network
            machines = null;
        }
        stopApps();
        if (vertx != null) {
            vertx.close();
            vertx = null;
        }
    }
}
