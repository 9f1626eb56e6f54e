package io.intent.bench;

import io.intent.api.ApiServer;
import io.intent.api.Role;
import io.intent.api.Tokens;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * How fast intentctl answers: the wall time of {@code intentctl get status} (a fresh JVM per call, launched like
 * the installed {@code intentctl}: its own jars, the class-data sharing archive made by the training run) against a
 * running API on a real etcd, next to {@code etcdctl get --prefix /intent/status/} reading the same keys in the same
 * run (a Go binary: the floor for a command-line read).
 */
public final class CliBench implements Benchmark {
    /** The JVM flags of the installed launcher (./intent's CTL_JAVA_OPTS); keep the two in step. */
    static final List<String> CTL_JAVA_OPTS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-XX:-UsePerfData", "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    static final String TOKEN = "bench-cli-viewer";
    static final int APPS = 5;
    static final int HOSTS = 3;

    @Override
    public String describe() {
        return "intentctl get status wall time (fresh JVM, CDS archive) vs etcdctl get --prefix of the same keys";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        Path etcdctl = Prerequisites.require("etcdctl", "etcd-client");
        Path jar = Path.of("cli/target/cli-0.1.0-SNAPSHOT.jar").toAbsolutePath();
        Path cpFile = Path.of("cli/target/classpath.txt").toAbsolutePath();
        if (!Files.isRegularFile(jar) || !Files.isRegularFile(cpFile)) {
            throw new IllegalStateException("intentctl is not built: run ./intent build (needs " + jar + ")");
        }
        String cp = jar + ":" + Files.readString(cpFile).strip();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path tmp = Files.createTempDirectory("intent-cli-bench");
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            seed(store);
            Tokens tokens = new Tokens(Map.of(Tokens.hash(TOKEN), new Tokens.Token("bench", Role.VIEWER, "bench")));
            try (ApiServer api = ApiServer.start(store, tokens, ApiServer.Options.defaults().withPort(0)
                    .withExpectedAgents(List.of("setlive")))) {
                Path tokenFile = Files.writeString(tmp.resolve("token"), TOKEN);
                Path jsa = tmp.resolve("intentctl.jsa");
                List<String> train = new ArrayList<>(List.of(java));
                train.addAll(CTL_JAVA_OPTS);
                train.addAll(List.of("-XX:ArchiveClassesAtExit=" + jsa, "-cp", cp, "io.intent.cli.CdsTraining"));
                long trainMs = wallMs(train, null);
                if (!Files.isRegularFile(jsa)) {
                    throw new IllegalStateException("the training run made no archive: " + String.join(" ", train));
                }
                List<String> get = List.of("io.intent.cli.IntentCtl", "get", "status", "--api", api.url(),
                        "--token-file", tokenFile.toString());
                List<String> fast = new ArrayList<>(List.of(java));
                fast.addAll(CTL_JAVA_OPTS);
                fast.addAll(List.of("-XX:SharedArchiveFile=" + jsa, "-cp", cp));
                fast.addAll(get);
                List<String> plain = new ArrayList<>(List.of(java, "-Xshare:off", "-cp", cp));
                plain.addAll(get);
                List<String> etcdRead = List.of(etcdctl.toString(), "--endpoints=" + String.join(",", etcd.endpoints()),
                        "get", "--prefix", "/intent/status/");
                r.header(runs + " calls each, interleaved, median wall time; " + APPS + " apps on " + HOSTS
                        + " hosts (" + APPS * HOSTS + " status keys)");
                measure(r, runs, fast, plain, etcdRead);
                r.row("training run that makes the archive (once, at install)", trainMs, "ms", "");
            }
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        r.finish();
    }

    /** Runs the three commands {@code runs} times, interleaved, and reports their medians and RESULT lines. */
    private static void measure(Report r, int runs, List<String> fast, List<String> plain, List<String> etcdRead)
            throws IOException, InterruptedException {
        Timing[] cds = new Timing[runs];
        Timing[] noCds = new Timing[runs];
        Timing[] etcdRuns = new Timing[runs];
        wallMs(fast, "app-0"); // warm the page cache for every jar once
        wallMs(etcdRead, "/intent/status/");
        for (int i = 0; i < runs; i++) {
            cds[i] = timed(fast, "app-0");
            etcdRuns[i] = timed(etcdRead, "/intent/status/");
            noCds[i] = timed(plain, "app-0");
        }
        double cdsMs = median(cds, Timing::wallMs);
        double etcdMedian = median(etcdRuns, Timing::wallMs);
        long[] classes = classSources(fast);
        r.row("intentctl get status (launcher flags + CDS archive)", cdsMs, "ms", "median of " + runs);
        r.row("  its CPU time (user + sys)", median(cds, Timing::cpuMs), "ms", "median of " + runs);
        r.row("intentctl get status (plain java -cp, no archive)", median(noCds, Timing::wallMs), "ms",
                "median of " + runs);
        r.row("  its CPU time (user + sys)", median(noCds, Timing::cpuMs), "ms", "median of " + runs);
        r.row("etcdctl get --prefix /intent/status/ (limit)", etcdMedian, "ms", "median of " + runs);
        r.row("  its CPU time (user + sys)", median(etcdRuns, Timing::cpuMs), "ms", "median of " + runs);
        r.row("classes a call loads from the archive (-Xshare:on maps it)", classes[0], "classes", "");
        r.row("classes a call parses or makes at run time", classes[1], "classes", "");
        r.result("cli.get_status_ms", cdsMs, "ms", etcdMedian);
        r.result("cli.get_status_no_archive_ms", median(noCds, Timing::wallMs), "ms", etcdMedian);
        r.result("cli.get_status_cpu_ms", median(cds, Timing::cpuMs), "ms",
                median(etcdRuns, Timing::cpuMs));
    }

    private static void seed(EtcdStore store) {
        String sha = "a".repeat(64);
        for (int h = 0; h < HOSTS; h++) {
            String host = "h" + h;
            store.put(store.keys().host(host), new HostSpec(Map.of("zone", "a"), null, null, false));
            store.put(store.keys().live(host), new Liveness(host, null, "bench", 1, Instant.now()));
        }
        for (int a = 0; a < APPS; a++) {
            String app = "app-" + a;
            AppIntent intent = Json.read("{\"versions\":{\"1.0\":{\"artifact\":\"file:///srv/a.tgz\",\"sha256\":\"" + sha
                    + "\"}},\"active\":\"1.0\",\"run\":{\"command\":[\"bin/run\"]},\"scale\":" + HOSTS + "}",
                    AppIntent.class);
            long rev = store.put(store.keys().app(app), intent);
            List<String> hosts = new ArrayList<>();
            for (int h = 0; h < HOSTS; h++) {
                hosts.add("h" + h);
                store.put(store.keys().assignment("h" + h, app), new Assignment(app, "h" + h, rev, intent));
                store.put(store.keys().status("h" + h, app, "setlive"), new AgentStatus("setlive", Phase.READY, "1.0",
                        rev, null, 0, Instant.now(), null, Map.of()));
            }
            store.put(store.keys().placement(app), new Placement(hosts, HOSTS, rev, null));
        }
    }

    /** One run of a command: wall time, and the CPU time (user + sys) of it and its children. */
    record Timing(long wallMs, long cpuMs) {
    }

    /** Runs one command to completion; its wall time in ms. Fails unless it exits 0 printing {@code expect}. */
    private static long wallMs(List<String> command, String expect) throws IOException, InterruptedException {
        return timed(command, expect).wallMs();
    }

    /**
     * Runs one command under bash, whose {@code times} then prints the CPU time its children used: a measure that,
     * unlike the wall time, hardly moves when other work loads the machine.
     */
    private static Timing timed(List<String> command, String expect) throws IOException, InterruptedException {
        List<String> sh = new ArrayList<>(List.of("bash", "-c", "\"$@\"; rc=$?; times; exit $rc", "bash"));
        sh.addAll(command);
        long start = System.nanoTime();
        Process p = new ProcessBuilder(sh).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int code = p.waitFor();
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (code != 0 || expect != null && !out.contains(expect)) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + code + ":\n" + out);
        }
        // the last line of `times`: the children's user and system time, as 0m0.123s 0m0.045s
        String[] lines = out.strip().split("\n");
        String[] children = lines[lines.length - 1].trim().split("\\s+");
        return new Timing(ms, Math.round((seconds(children[0]) + seconds(children[1])) * 1000));
    }

    private static double seconds(String bashTime) {
        int m = bashTime.indexOf('m');
        return Integer.parseInt(bashTime.substring(0, m)) * 60
                + Double.parseDouble(bashTime.substring(m + 1, bashTime.length() - 1));
    }

    /**
     * Checks that the archive maps ({@code -Xshare:on} fails loudly when it does not) and counts the classes a call
     * loads: from the archive, and parsed from jars or made at run time (proxies, lambda forms).
     */
    private static long[] classSources(List<String> fast) throws IOException, InterruptedException {
        List<String> check = new ArrayList<>(fast);
        // after the launcher's -Xshare:auto (the later flag wins), before the main class's arguments
        check.replaceAll(a -> a.equals("-Xshare:auto") ? "-Xshare:on" : a);
        if (!check.contains("-Xshare:on")) {
            check.add(1, "-Xshare:on");
        }
        check.add(2, "-Xlog:class+load=info:stdout");
        Process p = new ProcessBuilder(check).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("intentctl's archive does not map (-Xshare:on): " + out);
        }
        long shared = out.lines().filter(l -> l.contains("source: shared objects file")).count();
        long other = out.lines().filter(l -> l.contains("[class,load]") && !l.contains("source: shared objects file"))
                .count();
        return new long[] {shared, other};
    }

    private static double median(Timing[] runs, java.util.function.ToLongFunction<Timing> what) {
        long[] s = Arrays.stream(runs).mapToLong(what).toArray();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
