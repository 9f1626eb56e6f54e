package io.intent.bench;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.Assignment;
import io.intent.testkit.Fleet;
import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a partition between the hosts and etcd costs the apps: N hosts with live apps (real etcd, a leader JVM,
 * node JVMs, runit), every node frozen (SIGSTOP: its agents and liveness stop, its apps keep running) for the
 * liveness TTL + host grace + 20 s, then thawed: how many instances restarted and how many assignments were
 * deleted (goal 0 and 0). Then one host alone is cut off while spare hosts exist: how long until its instances
 * answer elsewhere, next to the TTL + grace a replacement cannot beat.
 */
public final class PartitionBench implements Benchmark {
    @Override
    public String describe() {
        return "hosts cut off from etcd past TTL + grace: apps restarted, assignments deleted, replacement time";
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int hosts = intArg(args, "--hosts", 4);
        int ttl = intArg(args, "--ttl", 3);
        int grace = intArg(args, "--grace", 5);
        int extra = intArg(args, "--extra", 20);
        Path work = Files.createTempDirectory("intent-bench-partition-");
        List<Integer> ports = List.of(Ports.free(), Ports.free());
        r.header(hosts + " hosts, 2 apps of scale " + (hosts - 1) + ", liveness TTL " + ttl + " s, host grace "
                + grace + " s (work in " + work + ")");
        Fleet fleet = Fleet.start(work, hosts, new Fleet.Timing(ttl, grace, 2), List.of());
        AtomicInteger deletes = new AtomicInteger();
        try (EtcdStore store = EtcdStore.connect(EtcdConfig.of(List.of(fleet.endpoints().split(","))))) {
            for (int a = 0; a < 2; a++) {
                fleet.deploy("app" + a, hosts - 1, ports.get(a));
            }
            Map<String, Long> before = awaitServing(fleet, ports, 2 * (hosts - 1));
            try (SliceWatch<Assignment> audit = store.watchSlice(store.keys().assignPrefix(), Assignment.class,
                    (changes, rev, relisted) -> changes.forEach(c -> {
                        if (c.kind() == SliceWatch.Kind.DELETE) {
                            deletes.incrementAndGet();
                        }
                    }))) {
                // 1: every host cut off past TTL + grace, then back
                long cutFor = (ttl + grace + extra) * 1000L;
                for (int i = 0; i < hosts; i++) {
                    fleet.node(i).pause();
                }
                Thread.sleep(cutFor);
                for (int i = 0; i < hosts; i++) {
                    fleet.node(i).resume();
                }
                Map<String, Long> after = awaitServing(fleet, ports, 2 * (hosts - 1));
                int restarted = 0;
                for (var e : before.entrySet()) {
                    restarted += e.getValue().equals(after.get(e.getKey())) ? 0 : 1;
                }
                int deleted = deletes.get();
                r.row("every host cut off for", cutFor / 1000.0, "s", "TTL + grace + " + extra + " s");
                r.row("instances restarted", restarted, "", "of " + before.size());
                r.row("assignments deleted", deleted, "", "");
                r.result("partition.instances_restarted", restarted, "instances", 0);
                r.result("partition.assignments_deleted", deleted, "assignments", 0);

                // 2: one host cut off while spare hosts exist: its instances must come up elsewhere
                Thread.sleep((ttl + 1) * 1000L); // every host's liveness is back before the next cut
                int cut = 0;
                List<Integer> spares = new ArrayList<>();
                for (int a = 0; a < 2; a++) {
                    for (int i = 0; i < hosts; i++) {
                        if (i != cut && !fleet.answers(i, ports.get(a))) {
                            spares.add(a * hosts + i);
                        }
                    }
                }
                long t0 = System.nanoTime();
                fleet.node(cut).pause();
                double replacementS = -1;
                long deadline = t0 + Duration.ofSeconds(ttl + grace + 60).toNanos();
                while (System.nanoTime() < deadline) {
                    boolean all = !spares.isEmpty();
                    for (int s : spares) {
                        all &= fleet.answers(s % hosts, ports.get(s / hosts));
                    }
                    if (all) {
                        replacementS = (System.nanoTime() - t0) / 1e9;
                        break;
                    }
                    Thread.sleep(50);
                }
                fleet.node(cut).resume();
                r.row("one host cut off: replacements answer after", replacementS, "s",
                        spares.size() + " instance(s); -1 = never within TTL + grace + 60 s");
                r.result("partition.replacement_live_s", replacementS, "s", ttl + grace);
            }
        } finally {
            for (int i = 0; i < hosts; i++) {
                fleet.node(i).resume();
            }
            fleet.close();
            for (int i = 0; i < hosts; i++) {
                io.intent.setlive.Runsvdir.shutdown(fleet.root(i).resolve("services"),
                        fleet.root(i).resolve("setlive"), Duration.ofSeconds(5));
            }
        }
        r.finish();
    }

    /** Waits until {@code n} instances answer; returns each one's runit pid by host and port. */
    private static Map<String, Long> awaitServing(Fleet fleet, List<Integer> ports, int n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            Map<String, Long> pids = new HashMap<>();
            for (int a = 0; a < ports.size(); a++) {
                for (int i = 0; i < fleet.size(); i++) {
                    if (fleet.answers(i, ports.get(a))) {
                        pids.put(fleet.host(i) + "/app" + a, fleet.pid(i, "app" + a).orElse(-1L));
                    }
                }
            }
            if (pids.size() == n) {
                return pids;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("fewer than " + n + " instances answer after 120 s");
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
