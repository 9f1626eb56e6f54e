package io.intent.bench;

import io.intent.setlive.Runsvdir;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Assignment;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One node (preparer + iptables + setlive in one JVM) with 100 assignments: its resident memory once
 * converged, and the time from process start to every app live. Limits measured in the same run: the RSS of
 * an idle JVM with the same flags, and the same work done by hand with no intent at all (unpack 100 tars,
 * write 100 runit services, start runsvdir, wait until all 100 answer).
 */
public final class FootprintBench implements Benchmark {
    @Override
    public String describe() {
        return "RSS of one node with 100 assignments, and start -> first converge, vs raw";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int apps = 100;
        long steadyS = 120;
        String flags = nodeJvmFlags();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--long")) {
                steadyS = 1800;
            } else if (args[i].equals("--steady-seconds")) {
                steadyS = Long.parseLong(args[++i]);
            } else if (args[i].equals("--jvm-flags")) {
                // to compare flag sets on the same machine (the default is the launcher's NODE_JAVA_OPTS)
                flags = args[++i];
            } else {
                apps = Integer.parseInt(args[i]);
            }
        }
        // NMT (summary) to say where the memory goes; it costs a few MB of its own, in both JVMs alike
        Map<String, String> jvmEnv = Map.of("JAVA_TOOL_OPTIONS", "-XX:NativeMemoryTracking=summary " + flags,
                "MALLOC_ARENA_MAX", "2");
        Path work = Files.createTempDirectory("intent-bench-footprint-");
        Vertx vertx = Vertx.vertx();
        Path tar = DemoApp.tarball(work.resolve("app.tar.gz"));
        String sha = DemoApp.sha256(tar);
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            KeyLayout keys = store.keys();
            int port = Ports.free();
            vertx.createHttpServer().requestHandler(req -> req.response().sendFile(tar.toString()))
                    .listen(port, "127.0.0.1").await(10, TimeUnit.SECONDS);
            String url = "http://127.0.0.1:" + port + "/app.tar.gz";
            List<Op> ops = new ArrayList<>();
            for (int a = 0; a < apps; a++) {
                ops.add(Op.put(keys.assignment("h0", "app" + a), new Assignment("app" + a, "h0", 1,
                        ConvergeBench.intent(url, sha, "1.0", 9100 + a, 1))));
                if (ops.size() == 100) {
                    store.commit(ops);
                    ops.clear();
                }
            }
            if (!ops.isEmpty()) {
                store.commit(ops);
            }

            Set<String> ready = ConcurrentHashMap.newKeySet();
            SliceWatch<AgentStatus> watch = store.watchSlice(keys.statusSlice("h0"), AgentStatus.class,
                    (changes, rev, relisted) -> changes.forEach(c -> {
                        if (c.kind() == SliceWatch.Kind.PUT && c.entry().valid()
                                && "setlive".equals(c.entry().value().agent())
                                && c.entry().value().phase() == Phase.READY) {
                            ready.add(c.key());
                        }
                    }));
            watch.awaitReady(Duration.ofSeconds(30));

            Path root = work.resolve("h0");
            long t0 = System.nanoTime();
            double convergeMs;
            long nodeRss;
            long[] steady;
            try (JvmProcess node = JvmProcess.start(List.of(), "io.intent.node.NodeMain", List.of("--etcd",
                    etcd.endpoint(0), "--host", "h0", "--address", "127.0.2.1", "--root", root.toString(),
                    "--backend", "file", "--http-port", "-1"), jvmEnv, work.resolve("node.log"))) {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
                while (ready.size() < apps) {
                    if (System.nanoTime() > deadline || !node.alive()) {
                        throw new IllegalStateException("node did not converge: " + ready.size() + "/" + apps
                                + " live; see " + work.resolve("node.log"));
                    }
                    Thread.sleep(5);
                }
                convergeMs = (System.nanoTime() - t0) / 1e6;
                // a full GC, a steady period (resyncs every 30 s, health probes, lease renewals), RSS sampled to
                // show whether it grows, then a full GC again and the figure
                jcmd(node.pid(), "GC.run");
                long firstRss = rssKb(node.pid());
                long maxRss = firstRss;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(steadyS);
                while (System.nanoTime() < end) {
                    Thread.sleep(Math.min(10_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
                    maxRss = Math.max(maxRss, rssKb(node.pid()));
                }
                jcmd(node.pid(), "GC.run");
                nodeRss = rssKb(node.pid());
                Files.writeString(work.resolve("nmt.txt"), jcmd(node.pid(), "VM.native_memory", "summary"));
                Files.writeString(work.resolve("histogram.txt"), jcmd(node.pid(), "GC.class_histogram"));
                Files.writeString(work.resolve("threads.txt"), jcmd(node.pid(), "Thread.print"));
                Files.writeString(work.resolve("classes.txt"), jcmd(node.pid(), "VM.class_hierarchy"));
                steady = new long[] {firstRss, maxRss, nodeRss};
            } finally {
                watch.close();
                Runsvdir.shutdown(root.resolve("services"), root.resolve("setlive"), Duration.ofSeconds(5));
            }

            long idleRss;
            try (JvmProcess idle = JvmProcess.start(List.of(), "io.intent.bench.FootprintBench$Idle", List.of(),
                    jvmEnv, work.resolve("idle.log"))) {
                Thread.sleep(3000);
                jcmd(idle.pid(), "GC.run");
                Thread.sleep(1000);
                idleRss = rssKb(idle.pid());
            }
            double rawMs = rawBaseline(work.resolve("raw"), tar, apps);

            r.header("one node JVM, " + apps + " assignments (process runtime, runit, file iptables); load average "
                    + ConvergeBench.loadAverage() + "; NMT and histogram in " + work);
            r.row("node start -> all " + apps + " apps live", convergeMs, "ms", "includes JVM start + download");
            r.row("same work by hand (tar, runit, wait)", rawMs, "ms", "the limit");
            r.row("node RSS after a full GC, at convergence", steady[0] / 1024.0, "MB", "");
            r.row("node RSS, highest sample of the steady period", steady[1] / 1024.0, "MB", steadyS + " s");
            r.row("node RSS after the steady period and a full GC", nodeRss / 1024.0, "MB", flags);
            for (String line : Files.readAllLines(work.resolve("nmt.txt"))) {
                var m = java.util.regex.Pattern.compile("^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)")
                        .matcher(line.strip());
                if (line.startsWith("Total") || m.find()) {
                    String what = line.startsWith("Total") ? "NMT total" : "NMT " + m.group(1);
                    java.util.regex.Matcher c = java.util.regex.Pattern.compile("committed=(\\d+)KB").matcher(line);
                    if (c.find()) {
                        r.row(what + ", committed", Long.parseLong(c.group(1)) / 1024.0, "MB", "");
                    }
                }
            }
            r.row("idle JVM RSS, same flags", idleRss / 1024.0, "MB", "the limit");
            r.result("footprint.rss_mb", nodeRss / 1024.0, "MB", idleRss / 1024.0);
            r.result("footprint.start_to_converge_ms", convergeMs, "ms", rawMs);
            r.finish();
        } finally {
            vertx.close();
        }
    }

    /**
     * The flags a node runs with (NODE_JAVA_OPTS, the launcher's defaults for intent-node): a small initial heap
     * (the default, 1/64 of RAM, kept eden large and touched) that grows to what a node holds and is given back
     * after a GC, and freed malloc memory trimmed every 30 s. The launcher also sets MALLOC_ARENA_MAX=2, as here.
     */
    static String nodeJvmFlags() {
        String flags = System.getenv("NODE_JAVA_OPTS");
        if (flags == null || flags.isBlank()) {
            throw new IllegalStateException("NODE_JAVA_OPTS is not set: run this benchmark as ./intent bench footprint "
                    + "(the launcher reads the node's flags from etc/release/bin/intent-node)");
        }
        return flags;
    }

    static String jcmd(long pid, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid)));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    static long rssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    /** Unpack, write runit services, start runsvdir, wait until every app answers: no intent involved. */
    static double rawBaseline(Path dir, Path tar, int apps) throws Exception {
        String script = "set -e\n"
                + "d=" + dir + "\n"
                + "mkdir -p $d/svc\n"
                + "for i in $(seq 0 " + (apps - 1) + "); do\n"
                + "  mkdir -p $d/inst/$i && tar -xzf " + tar + " -C $d/inst/$i\n"
                + "  mkdir -p $d/svc/app$i\n"
                + "  printf '#!/bin/sh\\nexec env INTENT_HOST_ADDR=127.0.3.1 INTENT_PORT_HTTP=%s "
                + "INTENT_VERSION=1.0 DEMO_WWW=%s %s\\n' $((9300+i)) $d/www$i $d/inst/$i/bin/server"
                + " > $d/svc/app$i/run\n"
                + "  chmod +x $d/svc/app$i/run\n"
                + "done\n"
                + "setsid runsvdir -P $d/svc </dev/null >/dev/null 2>&1 &\n"
                + "echo $! > $d/runsvdir.pid\n"
                + "for i in $(seq 0 " + (apps - 1) + "); do\n"
                + "  until curl -sf -o /dev/null http://127.0.3.1:$((9300+i))/healthz; do sleep 0.005; done\n"
                + "done\n";
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true)
                .redirectOutput(dir.resolve("raw.log").toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("raw baseline failed; see " + dir.resolve("raw.log"));
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        Runsvdir.shutdown(dir.resolve("svc"), dir.resolve("nostate"), Duration.ofSeconds(5));
        long pid = Long.parseLong(Files.readString(dir.resolve("runsvdir.pid")).strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        return ms;
    }

    /** An idle JVM: the RSS floor for the same flags. */
    public static final class Idle {
        public static void main(String[] args) throws Exception {
            Thread.sleep(60_000);
        }
    }
}
