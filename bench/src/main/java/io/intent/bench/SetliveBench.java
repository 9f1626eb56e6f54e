package io.intent.bench;

import io.intent.setlive.HealthProbe;
import io.intent.setlive.Runsvdir;
import io.intent.setlive.SetliveMain;
import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.testkit.Apps;
import io.intent.testkit.DemoApp;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Time from an {@code active} change in etcd to the new version answering on its port, through a real setlive
 * agent, runit and the demo app. The limit, measured in the same run, interleaved round by round: the same demo
 * app from the same installs under its own runsvdir on a neighbouring address, switched with a raw symlink swap
 * (temp name + rename) plus {@code sv restart} (its control commands written straight to runsv, without sv's
 * 420 ms status polling), until the new version answers.
 */
public final class SetliveBench implements Benchmark {
    private static final String HOST = "bench";
    private static final String ADDR = "127.0.0.21";
    private static final String LIMIT_ADDR = "127.0.0.22";
    /** runsv delays a restart within 1 s of the last start; both sides wait this long between switches. */
    private static final long SETTLE_MS = 1200;

    @Override
    public String describe() {
        return "active change in etcd -> new version answers on its port (runit), vs raw swap + sv restart";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        Path work = Files.createTempDirectory("setlive-bench");
        Path root = work.resolve("root");
        InstallLayout layout = new InstallLayout(root);
        Path tarball = DemoApp.tarball(work.resolve("demo-app.tar.gz"));
        int port = Ports.free();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            for (String v : new String[] {"1.0", "2.0"}) {
                DemoApp.install(root, "app", v, tarball, null);
            }
            String sha = DemoApp.sha256(tarball);
            AppIntent intent = Apps.app().version("1.0", tarball.toUri().toString(), sha)
                    .version("2.0", tarball.toUri().toString(), sha).port("http", port).health("/healthz", "http", 10)
                    .build();
            String key = store.keys().assignment(HOST, "app");

            // the limit: the same demo app from the same installs, under its own runsvdir on its own address
            // (outside the agent's sandbox, which would remove a service it was not told to run), switched by
            // hand with no agent: swap the symlink, send runsv what `sv restart` sends
            Path limitRoot = work.resolve("limit");
            Path limitServices = limitRoot.resolve("services");
            Runsvdir.ensure(limitServices, limitRoot.resolve("setlive"));
            for (String v : new String[] {"1.0", "2.0"}) {
                Files.writeString(layout.install("app", v).resolve("VERSION"), v);
            }
            Path current = limitRoot.resolve("current");
            swap(current, layout.install("app", "1.0"));
            Path tmp = limitServices.resolve(".new-limit");
            Files.createDirectories(tmp);
            Files.writeString(tmp.resolve("run"), "#!/bin/sh\ncd " + current + " || exit 111\n"
                    + "exec env INTENT_HOST_ADDR=" + LIMIT_ADDR + " INTENT_PORT_HTTP=" + port + " INTENT_APP=limit"
                    + " INTENT_HOST=" + HOST + " INTENT_VERSION=\"$(cat VERSION)\" " + current + "/bin/server"
                    + " >>" + work.resolve("limit.log") + " 2>&1\n");
            Files.setPosixFilePermissions(tmp.resolve("run"), PosixFilePermissions.fromString("rwxr-xr-x"));
            Path limitSvc = limitServices.resolve("limit");
            Files.move(tmp, limitSvc, StandardCopyOption.ATOMIC_MOVE);

            AgentRuntime agent = SetliveMain.parse("--etcd", etcd.endpoint(0), "--host", HOST, "--address", ADDR,
                    "--root", root.toString(), "--resync", "30", "--http-port", "-1").start();
            long[] agentNs = new long[rounds];
            long[] limitNs = new long[rounds];
            try {
                store.put(key, new Assignment("app", HOST, 1, intent));
                awaitAnswer(ADDR, port, "1.0", 60_000);
                awaitAnswer(LIMIT_ADDR, port, "1.0", 60_000);
                String active = "1.0";
                // interleaved, so both see the same load on a shared machine
                for (int i = 0; i < rounds; i++) {
                    active = active.equals("1.0") ? "2.0" : "1.0";
                    Thread.sleep(SETTLE_MS);
                    long t0 = System.nanoTime();
                    store.put(key, new Assignment("app", HOST, i + 2, intent.withActive(active)));
                    awaitAnswer(ADDR, port, active, 30_000);
                    agentNs[i] = System.nanoTime() - t0;

                    t0 = System.nanoTime();
                    swap(current, layout.install("app", active));
                    // exactly what `sv restart` sends (term, cont, up), without sv's 420 ms status polling
                    Files.write(limitSvc.resolve("supervise/control"), "tcu".getBytes(StandardCharsets.US_ASCII));
                    awaitAnswer(LIMIT_ADDR, port, active, 30_000);
                    limitNs[i] = System.nanoTime() - t0;
                }
            } finally {
                agent.close();
                Runsvdir.shutdown(limitServices, limitRoot.resolve("setlive"), Duration.ofSeconds(5));
            }

            Stats a = new Stats(agentNs);
            Stats l = new Stats(limitNs);
            r.header("demo app (busybox httpd) under runit on " + ADDR + " and " + LIMIT_ADDR + " port " + port
                    + ", " + rounds + " switches each, interleaved, " + SETTLE_MS + " ms apart");
            r.row("setlive: active change -> new version answers, p50", a.p50(), "ms", "n=" + a.count());
            r.row("setlive: active change -> new version answers, p99", a.p99(), "ms", "");
            r.row("limit: swap + sv restart (tcu) -> answers, p50", l.p50(), "ms", "n=" + l.count());
            r.row("limit: swap + sv restart (tcu) -> answers, p99", l.p99(), "ms", "");
            r.result("setlive.switch_ms", a.p50(), "ms", l.p50());
            r.finish();
        } finally {
            Runsvdir.shutdown(layout.servicesDir(), root.resolve("setlive"), Duration.ofSeconds(5));
            DemoApp.run(List.of("rm", "-rf", work.toString()));
        }
    }

    private static void swap(Path link, Path target) throws Exception {
        Path tmp = link.resolveSibling(".limit-tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target);
        Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void awaitAnswer(String address, int port, String version, long timeoutMs)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            String body = HealthProbe.httpBody(address, port, "/");
            if (body != null && body.strip().equals(version)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("version " + version + " did not answer on " + address + ":" + port
                        + " within " + timeoutMs + " ms (last answer: " + body + ")");
            }
            Thread.sleep(1);
        }
    }
}
