package io.intent.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.intent.dispatcher.LeaderTerm;
import io.intent.leader.LeaderElection;
import io.intent.leader.LeaderMain;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.LeaseKeeper;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Resources;
import io.intent.testkit.Apps;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Leader failover with real leader processes on a 3-member etcd: the time from SIGKILL of the leader to the
 * first assignment written by the new leader (limit: the lease TTL, the time etcd needs to notice), and from
 * SIGTERM of the leader (it resigns) to the new leader's first assignment. Each round writes a new app right
 * after the signal and times the arrival of its assignment on a watch.
 */
public final class FailoverBench implements Benchmark {
    /** When an assignment key first appeared, and at which revision. */
    private record Arrival(long nanos, long revision) {
    }

    @Override
    public String describe() {
        return "leader failover: SIGKILL -> first assignment by the new leader (vs lease TTL); SIGTERM handover";
    }

    private static AppIntent app() {
        return Apps.app().build();
    }

    // Long: one benchmark's script read top to bottom (set up, measure, compare, report), so the figures it
    // compares are visibly taken the same way; docs/benchmarks.md describes each step.
    @Override
    public void run(Report r, String[] args) throws Exception {
        int ttl = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int crashRounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int termRounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path logs = Files.createTempDirectory("intent-failover-bench-");
        List<JvmProcess> processes = new ArrayList<>();
        Map<String, Arrival> arrivals = new ConcurrentHashMap<>();
        try (EtcdCluster etcd = EtcdCluster.start(3);
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            KeyLayout keys = store.keys();
            long lease = store.grantLease(Duration.ofSeconds(60));
            LeaseKeeper keeper = store.keepAlive(lease, Duration.ofSeconds(60), () -> { });
            for (int i = 1; i <= 3; i++) {
                String h = "h" + i;
                store.put(keys.host(h), new HostSpec(Map.of(), new Resources(8, 8192), "10.0.0." + i, false));
                store.put(keys.live(h), new Liveness(h, "10.0.0." + i, "bench", 1, Instant.now()), lease);
            }
            Watch.Watcher watch = store.client().getWatchClient().watch(
                    ByteSequence.from(keys.assignPrefix(), StandardCharsets.UTF_8),
                    WatchOption.builder().isPrefix(true).build(), resp -> {
                        long now = System.nanoTime();
                        for (WatchEvent e : resp.getEvents()) {
                            if (e.getEventType() == WatchEvent.EventType.PUT) {
                                String key = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
                                arrivals.putIfAbsent(key.substring(key.lastIndexOf('/') + 1),
                                        new Arrival(now, e.getKeyValue().getModRevision()));
                            }
                        }
                    });
            int[] serial = {0};
            java.util.function.Supplier<JvmProcess> candidate = () -> {
                String name = "leader-" + (++serial[0]);
                JvmProcess p = JvmProcess.start(LeaderMain.class, List.of("--etcd", String.join(",", etcd.endpoints()),
                        "--name", name, "--lease-ttl", Integer.toString(ttl), "--http-port", "-1"), Map.of(),
                        logs.resolve(name + ".log"));
                processes.add(p);
                return p;
            };
            String electionPrefix = keys.election() + "/";
            JvmProcess a = candidate.get();
            await(() -> LeaderElection.whoLeads(store).isPresent(), 60, "a first leader");
            JvmProcess b = candidate.get();
            await(() -> store.count(electionPrefix) == 2, 60, "a standby campaigning");

            r.header("2 leader processes, 3-member etcd, lease TTL " + ttl + " s; " + crashRounds + " SIGKILL rounds, "
                    + termRounds + " SIGTERM rounds");
            List<Double> crash = new ArrayList<>();
            for (int i = 1; i <= crashRounds; i++) {
                JvmProcess leader = leaderProcess(store, processes);
                String app = "crash-" + i;
                long t0 = System.nanoTime();
                leader.kill9();
                store.put(keys.app(app), app());
                await(() -> arrivals.containsKey(app), ttl + 30, app + " dispatched");
                double s = (arrivals.get(app).nanos() - t0) / 1e9;
                crash.add(s);
                r.row("SIGKILL -> first assignment by new leader #" + i, s, "s", "");
                candidate.get();
                await(() -> store.count(electionPrefix) == 2, 60, "a standby campaigning");
            }
            List<Double> graceful = new ArrayList<>();
            int oldWrote = 0;
            for (int i = 1; i <= termRounds; i++) {
                JvmProcess leader = leaderProcess(store, processes);
                String leaderName = LeaderElection.whoLeads(store).orElseThrow().name();
                String app = "term-" + i;
                long t0 = System.nanoTime();
                ProcessHandle.of(leader.pid()).ifPresent(ProcessHandle::destroy);
                store.put(keys.app(app), app());
                await(() -> arrivals.containsKey(app), 30, app + " dispatched");
                Arrival arrival = arrivals.get(app);
                String writer = store.list(LeaderTerm.key(keys), LeaderTerm.class, arrival.revision()).entries()
                        .get(0).value().leader();
                if (!leader.waitFor(15)) {
                    throw new IllegalStateException("the leader did not exit on SIGTERM");
                }
                if (writer.equals(leaderName)) {
                    // the old leader placed it before it resigned: not a handover time
                    oldWrote++;
                } else {
                    double s = (arrival.nanos() - t0) / 1e9;
                    graceful.add(s);
                    r.row("SIGTERM -> first assignment by new leader #" + i, s, "s", "");
                }
                candidate.get();
                await(() -> store.count(electionPrefix) == 2, 60, "a standby campaigning");
            }
            if (oldWrote > 0) {
                r.row("SIGTERM rounds where the old leader wrote first", oldWrote, "rounds", "not counted");
            }
            watch.close();
            keeper.close();
            double crashMedian = median(crash);
            r.row("SIGKILL -> new leader's first write, median", crashMedian, "s", "limit: lease TTL " + ttl + " s");
            r.row("SIGKILL -> new leader's first write, max", crash.stream().mapToDouble(x -> x).max().orElse(0),
                    "s", "");
            r.result("failover.crash_s", crashMedian, "s", ttl);
            if (!graceful.isEmpty()) {
                double termMedian = median(graceful);
                r.row("SIGTERM -> new leader's first write, median", termMedian, "s", "resign, no TTL wait");
                r.row("SIGTERM -> new leader's first write, max", graceful.stream().mapToDouble(x -> x).max()
                        .orElse(0), "s", "");
                r.result("failover.graceful_s", termMedian, "s", 0);
            }
            r.finish();
        } finally {
            for (JvmProcess p : processes) {
                if (p.alive()) {
                    p.kill9();
                }
            }
            try (Stream<Path> walk = Files.walk(logs)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The process that leads now, found by its pid in the election value. */
    private static JvmProcess leaderProcess(EtcdStore store, List<JvmProcess> processes) throws InterruptedException {
        await(() -> LeaderElection.whoLeads(store).isPresent(), 60, "a leader");
        long pid = LeaderElection.whoLeads(store).orElseThrow().pid();
        return processes.stream().filter(p -> p.pid() == pid && p.alive()).findFirst()
                .orElseThrow(() -> new IllegalStateException("the leader (pid " + pid + ") is not one of ours"));
    }

    private static void await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no " + what + " within " + seconds + " s");
            }
            Thread.sleep(5);
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n == 0 ? 0 : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
