package io.intent.bench;

import io.intent.iptables.IptablesOptions;
import io.intent.node.Node;
import io.intent.preparer.PreparerOptions;
import io.intent.setlive.Runsvdir;
import io.intent.setlive.SetliveOptions;
import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import io.intent.agent.config.AgentOptions;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * From an intent write to every instance live with its status written: 100 apps x 3 instances on 50
 * simulated hosts (real nodes — preparer, iptables with the file backend, setlive under real runit — 50 of
 * them in this JVM, each with its own etcd client and 127.0.1.x address) and a leader in its own JVM. First a
 * cold deploy of all 100 apps at once, then each app's active version changed one at a time. The limit is
 * the chain of etcd hops every change must take, measured in the same run: operator put → dispatcher's
 * watch, assignment put → agent's watch, status put → observer's watch (3 x put→watch).
 */
public final class ConvergeBench implements Benchmark {
    @Override
    public String describe() {
        return "intent write -> every instance live + status written, 100 apps x 3 on 50 hosts";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int apps = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int scale = 3;
        Path work = Files.createTempDirectory("intent-bench-converge-");
        List<Node> nodes = new ArrayList<>();
        Vertx vertx = Vertx.vertx();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            KeyLayout keys = store.keys();
            EtcdLimits limits = new EtcdLimits(store);
            limits.putLatencies("/bench/warm/", 300, 0);
            Stats hop = new Stats(limits.watchLatencies("/bench/hop/", 500));
            double chain = 3 * hop.p50();

            Path tar = DemoApp.tarball(work.resolve("app.tar.gz"));
            String sha = DemoApp.sha256(tar);
            int artifactPort = Ports.free();
            vertx.createHttpServer().requestHandler(req -> req.response().sendFile(tar.toString()))
                    .listen(artifactPort, "127.0.0.1").await(10, TimeUnit.SECONDS);
            String url = "http://127.0.0.1:" + artifactPort + "/app.tar.gz";

            try (JvmProcess leader = JvmProcess.start(List.of(), "io.intent.leader.LeaderMain",
                    List.of("--etcd", etcd.endpoint(0), "--name", "bench", "--http-port", "-1"), Map.of(),
                    work.resolve("leader.log"))) {
                long tStart = System.nanoTime();
                for (int h = 0; h < hosts; h++) {
                    nodes.add(startNode(etcd.endpoint(0), "h" + h, "127.0.1." + (h + 1), work.resolve("h" + h)));
                }
                while (store.count(keys.livePrefix()) < hosts) {
                    Thread.sleep(100);
                }
                double startS = (System.nanoTime() - tStart) / 1e9;

                // READY setlive statuses per app and version, as an observer sees them
                Map<String, Long> readyAt = new ConcurrentHashMap<>();
                Map<String, java.util.Set<String>> readyHosts = new ConcurrentHashMap<>();
                SliceWatch<AgentStatus> watch = store.watchSlice(keys.statusPrefix(), AgentStatus.class,
                        (changes, rev, relisted) -> {
                            long now = System.nanoTime();
                            for (var c : changes) {
                                if (c.kind() != SliceWatch.Kind.PUT || !c.entry().valid()) {
                                    continue;
                                }
                                AgentStatus s = c.entry().value();
                                if ("setlive".equals(s.agent()) && s.phase() == Phase.READY) {
                                    String[] parts = c.key().split("/");
                                    String k = parts[4] + "@" + s.version();
                                    var set = readyHosts.computeIfAbsent(k, x -> ConcurrentHashMap.newKeySet());
                                    if (set.add(parts[3]) && set.size() == scale) {
                                        readyAt.put(k, now);
                                    }
                                }
                            }
                        });
                watch.awaitReady(Duration.ofSeconds(30));

                long[] cold = new long[apps];
                long t0 = System.nanoTime();
                for (int a = 0; a < apps; a++) {
                    store.put(keys.app("app" + a), intent(url, sha, "1.0", 9000 + a, scale));
                }
                for (int a = 0; a < apps; a++) {
                    cold[a] = awaitReady(readyAt, "app" + a + "@1.0", t0, Duration.ofMinutes(10)) - t0;
                }
                double coldAllS = (System.nanoTime() - t0) / 1e9;

                // the limit of each version change, measured right after it (same load): its 3 sequential switches
                // done raw (symlink swap + runsv restart until the new version answers), plus the hop chain
                try (RawRunit raw = new RawRunit(work.resolve("raw"), tar, RAW_ADDR)) {
                    for (int i = 0; i < scale; i++) {
                        raw.service("raw" + i, RAW_PORT + i);
                    }
                    long[] switches = new long[apps];
                    long[] rawChain = new long[apps];
                    String rawVersion = "1.0";
                    for (int a = 0; a < apps; a++) {
                        long s0 = System.nanoTime();
                        store.put(keys.app("app" + a), intent(url, sha, "2.0", 9000 + a, scale));
                        switches[a] = awaitReady(readyAt, "app" + a + "@2.0", s0, Duration.ofMinutes(2)) - s0;
                        rawVersion = rawVersion.equals("1.0") ? "2.0" : "1.0";
                        long chainNs = (long) (chain * 1e6);
                        for (int i = 0; i < scale; i++) {
                            chainNs += raw.switchTo("raw" + i, RAW_PORT + i, rawVersion);
                        }
                        rawChain[a] = chainNs;
                    }

                    // a new app of 3 instances, as a new user writes it: put -> all 3 answering (READY), next to
                    // the same fetch, sha256, untar and start done by hand for 3 instances at once
                    long[] first = new long[FIRST_DEPLOYS];
                    long[] firstRaw = new long[FIRST_DEPLOYS];
                    for (int n = 0; n < FIRST_DEPLOYS; n++) {
                        long f0 = System.nanoTime();
                        store.put(keys.app("new" + n), intent(url, sha, "1.0", 9500 + n, scale));
                        first[n] = awaitReady(readyAt, "new" + n + "@1.0", f0, Duration.ofMinutes(2)) - f0;
                        firstRaw[n] = raw.firstStart("new" + n, url, RAW_PORT + 100 + n * scale, scale);
                    }
                    watch.close();
                    double coldRawS = FootprintBench.rawBaseline(work.resolve("raw-cold"), tar, apps * scale) / 1e3;
                    report(r, apps, scale, hosts, hop, chain, startS, coldAllS, coldRawS, new Stats(cold),
                            new Stats(switches), new Stats(rawChain), new Stats(first), new Stats(firstRaw));
                }
            } finally {
                stopAll(nodes, work);
            }
        } finally {
            vertx.close();
        }
    }

    static final String RAW_ADDR = "127.0.1.250";
    static final int RAW_PORT = 9700;
    static final int FIRST_DEPLOYS = 5;

    private static void report(Report r, int apps, int scale, int hosts, Stats hop, double chain, double startS,
                               double coldAllS, double coldRawS, Stats coldStats, Stats sw, Stats rawChain,
                               Stats first, Stats firstRaw) {
        r.header(apps + " apps x " + scale + " on " + hosts + " hosts (nodes in-process, runit, file iptables);"
                + " load average " + loadAverage());
        r.row("put -> watch event on this etcd, p50", hop.p50(), "ms", "n=" + hop.count());
        r.row("hop chain: 3 x put->watch", chain, "ms", "operator->dispatcher->agent->observer");
        r.row(hosts + " nodes started and live", startS, "s", "");
        r.row("cold deploy of all apps, all live", coldAllS, "s", apps * scale + " instances");
        r.row("cold deploy, per app, p50", coldStats.p50(), "ms", "from the first write of the burst");
        r.row("cold deploy, per app, p99", coldStats.p99(), "ms", "");
        r.row("version change -> all 3 live, p50", sw.p50(), "ms", "one app at a time, n=" + sw.count());
        r.row("version change -> all 3 live, p99", sw.p99(), "ms", "");
        r.row("limit: 3 raw switches (swap + runsv restart) + hop chain, p50", rawChain.p50(), "ms",
                "measured after each change");
        r.row("limit: same, p99", rawChain.p99(), "ms", "");
        r.row("cold deploy by hand (untar, runit services, wait)", coldRawS, "s", apps * scale + " instances");
        r.row("new app x " + scale + " -> all answering, p50", first.p50(), "ms", "n=" + first.count());
        r.row("same by hand (fetch, sha256, untar, runsv) x " + scale + " at once, p50", firstRaw.p50(), "ms",
                "the limit");
        r.result("converge.p50_ms", sw.p50(), "ms", rawChain.p50());
        r.result("converge.p99_ms", sw.p99(), "ms", rawChain.p99());
        r.result("converge.first_deploy_ms", first.p50(), "ms", firstRaw.p50());
        r.result("converge.cold_deploy_s", coldAllS, "s", coldRawS);
        r.finish();
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** Stops the nodes and their apps while etcd is still up (closing nodes against a dead etcd waits on retries). */
    static void stopAll(List<Node> nodes, Path work) {
        for (Node n : nodes) {
            n.close();
        }
        for (int h = 0; h < nodes.size(); h++) {
            Path root = work.resolve("h" + h);
            try {
                Runsvdir.shutdown(root.resolve("services"), root.resolve("setlive"), Duration.ofSeconds(5));
            } catch (Exception e) {
                System.err.println("could not stop the apps under " + root + ": " + e);
            }
        }
        nodes.clear();
    }

    static long awaitReady(Map<String, Long> readyAt, String key, long since, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long t = readyAt.get(key);
            if (t != null && t >= since) {
                return t;
            }
            Thread.sleep(2);
        }
        throw new IllegalStateException(key + " not live on all hosts within " + timeout);
    }

    static AppIntent intent(String url, String sha, String active, int port, int scale) {
        return Json.read("{\"versions\":{\"1.0\":{\"artifact\":\"" + url + "\",\"sha256\":\"" + sha + "\"},"
                + "\"2.0\":{\"artifact\":\"" + url + "\",\"sha256\":\"" + sha + "\"}},\"active\":\"" + active + "\","
                + "\"run\":{\"command\":[\"bin/server\"]},\"ports\":[{\"name\":\"http\",\"port\":" + port + "}],"
                + "\"health\":{\"http\":\"/healthz\"},\"scale\":" + scale + "}", AppIntent.class);
    }

    static Node startNode(String etcd, String host, String address, Path root) {
        AgentOptions agent = new AgentOptions();
        PreparerOptions preparer = new PreparerOptions();
        IptablesOptions iptables = new IptablesOptions();
        SetliveOptions setlive = new SetliveOptions();
        Object[] all = {agent, preparer, iptables, setlive};
        CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.create();
        for (Object o : all) {
            spec.addMixin(o.getClass().getSimpleName(), CommandLine.Model.CommandSpec.forAnnotatedObject(o));
        }
        new CommandLine(spec).parseArgs("--etcd", etcd, "--host", host, "--address", address, "--root",
                root.toString(), "--backend", "file", "--http-port", "-1", "--stop-timeout", "3");
        return Node.start(agent, preparer, iptables, setlive);
    }
}
