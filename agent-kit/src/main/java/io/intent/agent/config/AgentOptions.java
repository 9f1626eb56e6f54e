package io.intent.agent.config;

import io.intent.daemon.config.EtcdOptions;
import io.intent.store.codec.Names;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every host agent shares (a picocli mixin): who the host is, where its sandbox is, etcd. Its fields
 * share a shape with every other options class on purpose: picocli declares one annotated field per option.
 */
public final class AgentOptions {
    @Mixin
    public EtcdOptions etcd = new EtcdOptions();

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML/JSON file of option: value (env INTENT_CONFIG); flags and env win over it")
    public Path config;

    @Option(names = "--host", paramLabel = "NAME",
            description = "this host's name, a DNS label. Default: the machine's hostname")
    public String host;

    @Option(names = "--address", paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "address this host's apps bind to. Default: ${DEFAULT-VALUE}")
    public String address;

    @Option(names = "--root", paramLabel = "DIR",
            description = "the agent's sandbox root (installs, apps, state). Default: ~/.intent/<host>")
    public Path root;

    @Option(names = "--label", paramLabel = "KEY=VALUE", split = ",",
            description = "labels registered with the host on first start")
    public Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--cpu", paramLabel = "CORES", description = "capacity to register. Default: detected")
    public Double cpu;

    @Option(names = "--memory-mb", paramLabel = "MB", description = "capacity to register. Default: detected")
    public Long memoryMb;

    @Option(names = "--http-address", paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "address of /healthz, /readyz and /metrics (0.0.0.0: every interface, for a central "
                    + "Prometheus). Default: ${DEFAULT-VALUE}")
    public String httpAddress;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "0",
            description = "port of /healthz, /readyz and /metrics; 0 picks a free one, -1 disables. "
                    + "Default: ${DEFAULT-VALUE}")
    public int httpPort;

    @Option(names = "--resync", paramLabel = "SECONDS", defaultValue = "30",
            description = "full resync period. Default: ${DEFAULT-VALUE}")
    public int resyncSeconds;

    @Option(names = "--liveness-ttl", paramLabel = "SECONDS", defaultValue = "10",
            description = "TTL of this process's one etcd lease: the host's liveness key, and setlive's rollout "
                    + "requests and endpoints, hang on it (at least 2 s). Default: ${DEFAULT-VALUE}")
    public int livenessTtlSeconds;

    @Option(names = "--once",
            description = "read this host's slice once, converge it, write statuses and exit: 0 when every app is "
                    + "converged, 1 (with a summary) when not, 3 when a daemon of the same agent runs on this root; "
                    + "no liveness key, no watch, no HTTP")
    public boolean once;

    @Option(names = "--once-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "with --once: the longest the run may take before it reports what is not converged. "
                    + "Default: ${DEFAULT-VALUE}")
    public int onceTimeoutSeconds;

    /** The host name: the flag, else the machine's hostname turned into a DNS label. */
    public String hostName() {
        String h = host;
        if (h == null) {
            try {
                h = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                h = System.getenv().getOrDefault("HOSTNAME", "localhost");
            }
            h = h.toLowerCase().replaceAll("\\..*$", "").replaceAll("[^a-z0-9-]", "-");
        }
        return Names.require("host", h);
    }

    public Path rootDir() {
        return root != null ? root : Path.of(System.getProperty("user.home"), ".intent", hostName());
    }
}
