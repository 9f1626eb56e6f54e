package io.intent.bench;

import io.intent.iptables.ChainRenderer;
import io.intent.iptables.ChainRules;
import io.intent.iptables.ChainState;
import io.intent.iptables.ChainSync;
import io.intent.iptables.DesiredSlice;
import io.intent.iptables.KernelBackend;
import io.intent.iptables.RestoreScript;
import io.intent.iptables.SyncPass;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.PortSpec;
import io.intent.testkit.Apps;
import io.intent.testkit.NetNs;
import io.intent.testkit.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The iptables agent's sync of 10,000 ports (render + read + diff + one restore) against the physical limit, a
 * raw {@code iptables-restore} of the same ruleset file, both in fresh network namespaces of the same run; plus
 * a no-op resync (limit: a raw {@code iptables-save}) and what a naive agent does, one {@code iptables -A} per
 * rule.
 */
public final class IptablesBench implements Benchmark {
    private static final String CHAIN = ChainRenderer.DEFAULT_CHAIN;
    private static final int PORTS_PER_APP = 50;

    @Override
    public String describe() {
        return "10k ports: sync vs raw iptables-restore, no-op resync vs raw iptables-save, naive iptables -A";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int ports = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int samples = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        boolean naive = args.length <= 2 || !args[2].equals("--no-naive");
        Prerequisites.requireRoot("the iptables benchmark (network namespaces)");
        Prerequisites.require("iptables", "iptables");
        Map<String, Assignment> host = host(ports);
        ChainRules rules = ChainRenderer.render(CHAIN, host);
        if (!rules.rejected().isEmpty() || rules.rules().size() != ports) {
            throw new IllegalStateException("benchmark ruleset is wrong: " + rules.rejected());
        }
        Path file = Files.createTempFile("intent-iptables-bench", ".rules");
        Files.writeString(file, RestoreScript.full(rules));
        String version;
        try (NetNs ns = NetNs.create()) {
            version = ns.execOk("iptables", "--version").strip();
        }
        try {
            // warm-up: JIT-compile the renderer and parser as in a long-running agent, page in the binaries
            String text = RestoreScript.full(rules);
            for (int i = 0; i < 40; i++) {
                ChainState.parse(CHAIN, text).matches(ChainRenderer.render(CHAIN, host));
            }
            for (int i = 0; i < 2; i++) {
                sync(host);
                raw(file, false);
                raw(file, true);
            }
            long[] syncs = new long[samples];
            long[] raws = new long[samples];
            long[] piped = new long[samples];
            long[] noops = new long[samples];
            long[] saves = new long[samples];
            long[] changes = new long[samples];
            for (int i = 0; i < samples; i++) {
                // alternate, so drift in machine load hits both sides alike
                raws[i] = raw(file, false);
                settle();
                piped[i] = raw(file, true);
                settle();
                long[] s = sync(host);
                settle();
                syncs[i] = s[0];
                noops[i] = s[1];
                saves[i] = s[2];
                changes[i] = s[3];
            }
            Stats sync = new Stats(syncs);
            Stats fromFile = new Stats(raws);
            Stats fromPipe = new Stats(piped);
            // iptables-nft-restore reads a pipe faster than a regular file here; the limit is the faster way
            Stats raw = fromPipe.p50() <= fromFile.p50() ? fromPipe : fromFile;
            Stats noop = new Stats(noops);
            Stats save = new Stats(saves);
            Stats change = new Stats(changes);

            r.header(ports + " ports (" + host.size() + " apps x " + PORTS_PER_APP + "), fresh netns per sample, "
                    + version + ", median of " + samples);
            r.row("raw iptables-restore < ruleset file", fromFile.p50(), "ms", raw == fromFile ? "the limit" : "");
            r.row("raw iptables-restore, file fed through a pipe", fromPipe.p50(), "ms",
                    raw == fromPipe ? "the limit" : "");
            r.row("sync into a fresh netns", sync.p50(), "ms", "render + save + diff + 1 restore");
            r.row("sync after one port changed", change.p50(), "ms", "render + save of 10k + diff + 1 restore");
            r.row("raw iptables-save of 10k rules", save.p50(), "ms", "the no-op limit");
            r.row("no-op resync", noop.p50(), "ms", "render + save + diff, no restore");
            double naiveMs = 0;
            if (naive) {
                naiveMs = naive(rules);
                r.row("naive: one iptables -A per rule", naiveMs, "ms", ports + " processes, 1 sample");
            }
            r.result("iptables.sync_10k_ms", sync.p50(), "ms", raw.p50());
            r.result("iptables.noop_resync_ms", noop.p50(), "ms", save.p50());
            if (naive) {
                r.result("iptables.naive_10k_ms", naiveMs, "ms", raw.p50());
            }
            r.finish();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // Deleting a namespace with 10k rules frees them in a kernel work queue; let that finish before the next sample.
    private static void settle() throws InterruptedException {
        Thread.sleep(300);
    }

    /** 10,000 ports as apps of 50 ports each, every one a valid intent. */
    static Map<String, Assignment> host(int ports) {
        Map<String, Assignment> host = new TreeMap<>();
        int apps = (ports + PORTS_PER_APP - 1) / PORTS_PER_APP;
        for (int a = 0; a < apps; a++) {
            List<PortSpec> list = new ArrayList<>();
            for (int p = 0; p < PORTS_PER_APP && a * PORTS_PER_APP + p < ports; p++) {
                int port = 10_000 + a * PORTS_PER_APP + p;
                list.add(new PortSpec("p" + p, port, p % 5 == 0 ? "udp" : "tcp", List.of()));
            }
            String name = String.format("app-%04d", a);
            AppIntent intent = Apps.app().version("1.0", "file:///srv/" + name + ".tar.gz", "0".repeat(64))
                    .ports(list).build();
            host.put(name, new Assignment(name, "bench", 1, intent));
        }
        return host;
    }

    /** Nanoseconds of: a sync into a fresh netns, a no-op resync, a raw save, a sync after one change. */
    private static long[] sync(Map<String, Assignment> host) throws Exception {
        try (NetNs ns = NetNs.create()) {
            KernelBackend backend = new KernelBackend(ns.prefix(), "iptables");
            Map<String, Assignment> desired = new TreeMap<>(host);
            try (ChainSync sync = new ChainSync(CHAIN, backend)) {
                long t0 = System.nanoTime();
                SyncPass first = sync.sync(DesiredSlice.of(1, desired));
                long t1 = System.nanoTime();
                check(first, true);
                SyncPass noop = sync.sync(DesiredSlice.of(1, desired));
                long t2 = System.nanoTime();
                check(noop, false);
                long t3 = System.nanoTime();
                ns.execOk("iptables-save", "-t", "filter");
                long t4 = System.nanoTime();
                String app = desired.keySet().iterator().next();
                Assignment a = desired.get(app);
                List<PortSpec> ports = new ArrayList<>(a.intent().ports());
                ports.set(0, new PortSpec(ports.get(0).name(), 9, ports.get(0).protocol(), List.of()));
                desired.put(app, new Assignment(app, a.host(), a.appRevision() + 1, Apps.app()
                        .versions(a.intent().versions()).active(a.intent().active()).ports(ports).build()));
                long t5 = System.nanoTime();
                SyncPass change = sync.sync(DesiredSlice.of(2, desired));
                long t6 = System.nanoTime();
                check(change, true);
                if (backend.writes() != 2) {
                    throw new IllegalStateException("expected 2 restores, made " + backend.writes());
                }
                return new long[] {t1 - t0, t2 - t1, t4 - t3, t6 - t5};
            }
        }
    }

    private static void check(SyncPass pass, boolean wrote) {
        if (!pass.ok() || pass.wrote() != wrote) {
            throw new IllegalStateException("sync pass: ok=" + pass.ok() + " wrote=" + pass.wrote() + " "
                    + pass.failure());
        }
    }

    /**
     * Nanoseconds of one raw {@code iptables-restore --noflush -w} of {@code file} in a fresh netns: its stdin is
     * the file itself, or a pipe the file's bytes are copied into.
     */
    private static long raw(Path file, boolean throughPipe) throws IOException, InterruptedException {
        try (NetNs ns = NetNs.create()) {
            List<String> cmd = new ArrayList<>(ns.prefix());
            cmd.addAll(List.of("iptables-restore", "--noflush", "-w"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT);
            if (!throughPipe) {
                pb.redirectInput(file.toFile());
            }
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (throughPipe) {
                try (var in = p.getOutputStream()) {
                    Files.copy(file, in);
                }
            }
            int exit = p.waitFor();
            long t1 = System.nanoTime();
            if (exit != 0) {
                throw new IllegalStateException("raw iptables-restore failed with exit " + exit);
            }
            return t1 - t0;
        }
    }

    /**
     * Milliseconds of one {@code iptables -A} per rule in a fresh netns. The calls run from one shell inside
     * the namespace, so the figure is iptables' own cost, without a JVM process spawn per rule.
     */
    private static double naive(ChainRules rules) throws IOException, InterruptedException {
        Path script = Files.createTempFile("intent-iptables-naive", ".sh");
        try (NetNs ns = NetNs.create()) {
            StringBuilder sb = new StringBuilder("set -e\niptables -N ").append(CHAIN).append('\n')
                    .append("iptables -I INPUT -j ").append(CHAIN).append('\n');
            for (String rule : rules.rules()) {
                sb.append("iptables ").append(rule).append('\n');
            }
            Files.writeString(script, sb);
            List<String> cmd = new ArrayList<>(ns.prefix());
            cmd.addAll(List.of("sh", script.toString()));
            long t0 = System.nanoTime();
            int exit = new ProcessBuilder(cmd).inheritIO().start().waitFor();
            long t1 = System.nanoTime();
            if (exit != 0) {
                throw new IllegalStateException("naive iptables -A script failed with exit " + exit);
            }
            int count = ChainState.parse(CHAIN, ns.execOk("iptables-save", "-t", "filter")).rules().size();
            if (count != rules.rules().size()) {
                throw new IllegalStateException("naive run made " + count + " rules, not " + rules.rules().size());
            }
            return (t1 - t0) / 1e6;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
