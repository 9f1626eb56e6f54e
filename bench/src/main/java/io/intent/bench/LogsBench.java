package io.intent.bench;

import io.intent.api.ApiServer;
import io.intent.api.Tokens;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.daemon.logs.LogSigning;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Fleet;
import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How fast {@code intentctl logs -f} delivers a chatty instance's output, next to {@code tail -F} of the same
 * svlogd file in the same run: one host (a node JVM, runit, svlogd), the API signing its requests to the node,
 * intentctl in its own JVM; an app writing as fast as svlogd takes it. Both followers' output goes to files and
 * the bytes each wrote in the same window are compared ({@code RESULT logs.follow_ratio}: 1 = as fast as tail).
 */
public final class LogsBench implements Benchmark {
    @Override
    public String describe() {
        return "bytes/s through intentctl logs -f from one chatty instance, next to tail -F of the same file";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int seconds = intArg(args, "--seconds", 10);
        Path work = Files.createTempDirectory("intent-bench-logs-");
        int nodePort = Ports.free();
        String master = "bench-logs-master-key-" + System.nanoTime() + "-0123456789abcdef";
        Path masterFile = Files.writeString(work.resolve("master.key"), master);
        Files.writeString(work.resolve("h1.key"), LogSigning.hostKey(master, "h1"));
        r.header("1 host, an app writing lines as fast as svlogd takes them, followed for " + seconds
                + " s by intentctl logs -f and by tail -F (work in " + work + ")");
        Fleet fleet = Fleet.start(work, 1, new Fleet.Timing(5, 30, 5), List.of(), i -> List.of("--http-address",
                "127.0.0.11", "--http-port", Integer.toString(nodePort), "--logs-key-file",
                work.resolve("h1.key").toString(), "--log-max-bytes", "16000000", "--log-files", "2"));
        List<Process> followers = new ArrayList<>();
        String token = "bench-token-" + System.nanoTime();
        Path tokens = Files.writeString(work.resolve("tokens.yaml"), "- {name: bench, role: operator, sha256: "
                + Tokens.hash(token) + "}\n");
        try (EtcdStore store = EtcdStore.connect(EtcdConfig.of(List.of(fleet.endpoints().split(","))))) {
            ApiServer api = ApiServer.start(store, Tokens.fromFile(tokens), ApiServer.Options.defaults().withPort(0),
                    LogSigning.readKey("--logs-key-file", masterFile), nodePort, false);
            try {
                Path tar = DemoApp.tarball(fleet.repo().resolve("chatty.tar.gz"), "#!/bin/sh\n"
                        + "exec yes 'a chatty app writes this line of about sixty bytes, again and again'\n");
                fleet.etcdctl("put", "/intent/apps/chatty", "{\"versions\":{\"1.0\":{\"artifact\":\"" + tar.toUri()
                        + "\",\"sha256\":\"" + DemoApp.sha256(tar) + "\"}},\"active\":\"1.0\",\"run\":{\"command\":"
                        + "[\"bin/server\"]},\"scale\":1,\"resources\":{\"cpu\":0.1,\"memoryMb\":16}}");
                Path current = fleet.root(0).resolve("setlive/logs/chatty/current");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!Files.isRegularFile(current) || Files.size(current) == 0) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the chatty app never logged; see " + work.resolve("logs"));
                    }
                    Thread.sleep(200);
                }
                Path tailOut = work.resolve("tail.out");
                Path ctlOut = work.resolve("intentctl.out");
                followers.add(new ProcessBuilder("tail", "-F", "-n", "0", current.toString())
                        .redirectOutput(tailOut.toFile()).redirectError(work.resolve("tail.err").toFile()).start());
                followers.add(new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"),
                        "io.intent.cli.IntentCtl", "--api", api.url(), "--token", token, "logs", "chatty", "--tail",
                        "0", "-f").redirectOutput(ctlOut.toFile()).redirectError(work.resolve("intentctl.err")
                        .toFile()).start());
                // both running and delivering before the window opens
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (size(ctlOut) == 0 || size(tailOut) == 0) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("no output from a follower; see " + work);
                    }
                    Thread.sleep(100);
                }
                Thread.sleep(2000);
                long t0 = System.nanoTime();
                long tail0 = size(tailOut);
                long ctl0 = size(ctlOut);
                Thread.sleep(seconds * 1000L);
                double secs = (System.nanoTime() - t0) / 1e9;
                double tailRate = (size(tailOut) - tail0) / secs;
                double ctlRate = (size(ctlOut) - ctl0) / secs;
                r.row("tail -F of svlogd's current", tailRate / 1e6, "MB/s", "the limit: the file's own growth as "
                        + "one local reader sees it");
                r.row("intentctl logs -f (API, signed node request)", ctlRate / 1e6, "MB/s", "");
                r.result("logs.follow_ratio", ctlRate, "B/s", tailRate);
            } finally {
                followers.forEach(Process::destroy);
                fleet.etcdctl("del", "/intent/apps/chatty");
                Thread.sleep(3000);
                api.close();
            }
        } finally {
            fleet.close();
            // the app and the runsvdir the node started outlive the node JVM: setlive's own shutdown
            io.intent.setlive.Runsvdir.shutdown(fleet.root(0).resolve("services"), fleet.root(0).resolve("setlive"),
                    java.time.Duration.ofSeconds(5));
        }
        r.finish();
    }

    private static long size(Path p) throws java.io.IOException {
        return Files.isRegularFile(p) ? Files.size(p) : 0;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int intArg(String[] args, String name, int def) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return def;
    }
}
