package io.intent.leader;

import io.intent.dispatcher.Dispatcher;
import io.intent.dispatcher.Evacuation;
import io.intent.store.codec.Json;
import io.intent.daemon.config.ConfigDefaults;
import io.intent.daemon.config.EtcdOptions;
import io.intent.daemon.AgentServer;
import io.intent.daemon.Logging;
import io.intent.daemon.ProcessMetrics;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Session;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The {@code leader} process: a candidate that campaigns and runs the dispatcher only while it leads, with
 * {@code /healthz} and {@code /metrics}. Run two or more for failover; SIGTERM resigns so a standby takes over
 * at once. {@code leader who-leads} prints the current leader. Options come from flags, {@code INTENT_*}
 * environment variables or a {@code --config} file.
 */
@Command(name = "intent-leader", mixinStandardHelpOptions = true, subcommands = LeaderMain.WhoLeads.class,
        description = "Leader election + dispatcher: assigns app instances to hosts while it leads.")
public class LeaderMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(LeaderMain.class);

    // The option fields below look alike (and like ApiMain's) on purpose: picocli wants one annotated field per
    // flag, and each is the leader's own, declared once; the etcd flags come in through EtcdOptions.
    @Mixin
    EtcdOptions etcd = new EtcdOptions();

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML/JSON file of option: value (env INTENT_CONFIG); flags and env win over it")
    Path config;

    @Option(names = "--name", paramLabel = "NAME", description = "this candidate's name. Default: <hostname>-<pid>")
    String name;

    @Option(names = "--lease-ttl", paramLabel = "SECONDS", defaultValue = "5",
            description = "TTL of this process's etcd lease, which its election key hangs on: a crashed leader "
                    + "is replaced after about this long. Default: ${DEFAULT-VALUE}")
    int leaseTtlSeconds;

    @Option(names = "--host-grace", paramLabel = "SECONDS", defaultValue = "30",
            description = "how long a host may be silent before its instances move. Default: ${DEFAULT-VALUE}")
    double hostGraceSeconds;

    @Option(names = "--disruption-threshold", paramLabel = "SHARE", defaultValue = "0.55",
            description = "when more than this share of the hosts (registered, not draining) is unreachable, no "
                    + "instance moves off an unreachable host until enough are back: the leader cannot tell a fleet "
                    + "that died from its own partition. A number in (0, 1]. Default: ${DEFAULT-VALUE}")
    double disruptionThreshold;

    @Option(names = "--evacuations-per-minute", paramLabel = "N", defaultValue = "6",
            description = "at most this many dead hosts start being evacuated (their instances replaced "
                    + "elsewhere) within any minute, so a flapping network cannot stampede the planner. "
                    + "Default: ${DEFAULT-VALUE}")
    int evacuationsPerMinute;

    @Option(names = "--coalesce-ms", paramLabel = "MS", defaultValue = "50",
            description = "how long to gather changes before planning. Default: ${DEFAULT-VALUE}")
    int coalesceMs;

    @Option(names = "--resync", paramLabel = "SECONDS", defaultValue = "300",
            description = "full re-read of assignments and placements. Default: ${DEFAULT-VALUE}")
    int resyncSeconds;

    @Option(names = "--http-address", paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "address of /healthz, /readyz and /metrics (0.0.0.0: every interface, for a central "
                    + "Prometheus). Default: ${DEFAULT-VALUE}")
    String httpAddress;

    @Option(names = "--channel-poll", paramLabel = "SECONDS", defaultValue = "30",
            description = "how often the leader polls the HTTPS feeds of fed release channels. Default: ${DEFAULT-VALUE}")
    double channelPollSeconds;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "0",
            description = "port of /healthz, /readyz and /metrics; 0 picks a free one, -1 disables. "
                    + "Default: ${DEFAULT-VALUE}")
    int httpPort;

    public static void main(String[] args) {
        System.exit(commandLine(args).execute(args));
    }

    static CommandLine commandLine(String[] args) {
        return commandLine(args, System.getenv());
    }

    static CommandLine commandLine(String[] args, Map<String, String> env) {
        return ConfigDefaults.install(new CommandLine(new LeaderMain()), args, env);
    }

    String candidateName() {
        if (name != null) {
            return name;
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host.replaceAll("\\..*$", "") + "-" + ProcessHandle.current().pid();
    }

    @Override
    public Integer call() throws Exception {
        Logging.init();
        String me = candidateName();
        Evacuation.Limits limits;
        try {
            limits = new Evacuation.Limits(disruptionThreshold, evacuationsPerMinute);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
        Dispatcher.Settings settings = new Dispatcher.Settings(Duration.ofMillis((long) (hostGraceSeconds * 1000)),
                Duration.ofMillis(coalesceMs), Duration.ofSeconds(Math.max(1, resyncSeconds)), limits);
        PrometheusMeterRegistry registry = ProcessMetrics.registry();
        EtcdStore store = EtcdStore.connect(etcd.toConfig()).withMetrics(registry);
        LeaderProcess process = LeaderProcess.start(openSession(store, Duration.ofSeconds(leaseTtlSeconds)), me,
                settings, registry, new io.intent.dispatcher.ChannelFollower.Settings(
                        Duration.ofMillis((long) (Math.max(0.1, channelPollSeconds) * 1000))));
        AgentServer server = null;
        if (httpPort >= 0) {
            server = AgentServer.start(httpAddress, httpPort, registry, () -> health(me, process),
                    () -> readiness(me, process, store));
            log.info("leader candidate {}: /healthz, /readyz and /metrics on http://{}:{}", me, httpAddress,
                    server.port());
        }
        CountDownLatch done = new CountDownLatch(1);
        AgentServer httpServer = server;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("{} shutting down: resigning", me);
            process.close();
            if (httpServer != null) {
                httpServer.close();
            }
            store.close();
            done.countDown();
        }, "shutdown"));
        log.info("leader candidate {} started (lease TTL {} s, host grace {} s)", me, leaseTtlSeconds,
                hostGraceSeconds);
        done.await();
        return 0;
    }

    /** The process's one lease, which the election key hangs on (the fencing tests put a zombie's in here). */
    Session openSession(EtcdStore store, Duration ttl) {
        return Session.open(store, ttl);
    }

    /** Alive while the election runs (campaigning or leading); an ended election needs a restart. */
    static AgentServer.Health health(String me, LeaderProcess process) {
        Map<String, Object> body = new LinkedHashMap<>();
        var state = process.election().state();
        body.put("name", me);
        body.put("state", state.name().toLowerCase());
        body.put("leader", process.leading());
        boolean ok = state != LeaderElection.State.CLOSED;
        body.put("status", ok ? "ok" : "election ended");
        return new AgentServer.Health(ok, Json.writeString(body));
    }

    /** Ready when etcd answers and someone (this candidate or another) leads: the fleet is being dispatched. */
    static AgentServer.Health readiness(String me, LeaderProcess process, EtcdStore store) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", me);
        body.put("leader", process.leading());
        boolean ok;
        try {
            var leader = LeaderElection.whoLeads(store);
            body.put("leads", leader.map(LeaderElection.Leader::name).orElse(null));
            ok = leader.isPresent();
            body.put("status", ok ? "ready" : "no leader");
        } catch (RuntimeException e) {
            ok = false;
            body.put("status", "etcd unreachable");
            body.put("error", e.getMessage());
        }
        return new AgentServer.Health(ok, Json.writeString(body));
    }

    /** Prints who leads, as JSON, or exits 3 when nobody does. */
    @Command(name = "who-leads", description = "print the current leader as JSON")
    static final class WhoLeads implements Callable<Integer> {
        @Mixin
        EtcdOptions etcd = new EtcdOptions();

        @Override
        public Integer call() {
            try (EtcdStore store = EtcdStore.connect(etcd.toConfig())) {
                var leader = LeaderElection.whoLeads(store);
                if (leader.isEmpty()) {
                    System.out.println("{\"leader\":null}");
                    return 3;
                }
                System.out.println(Json.writeString(leader.get()));
                return 0;
            }
        }
    }
}
