package io.intent.leader;

import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Resources;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Leader candidates as real separate JVMs (so they can be SIGKILLed and SIGSTOPped), plus live fake hosts. */
final class LeaderJvms implements AutoCloseable {
    /** One candidate process and its /metrics port. */
    record Candidate(String name, JvmProcess process, int httpPort) {
    }

    private final Class<?> main;
    private final List<String> endpoints;
    private final List<String> extraArgs;
    private final Path logs;
    private final Map<String, Candidate> candidates = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<AutoCloseable> keepers = new ArrayList<>();

    LeaderJvms(List<String> endpoints, List<String> extraArgs) throws java.io.IOException {
        this(LeaderMain.class, endpoints, extraArgs);
    }

    /** Candidates running {@code main}: {@link LeaderMain}, or a test-only variant of it. */
    LeaderJvms(Class<?> main, List<String> endpoints, List<String> extraArgs) throws java.io.IOException {
        this.main = main;
        this.endpoints = endpoints;
        this.extraArgs = extraArgs;
        // under target/, so the logs of a failed run are there to read and nothing leaks into /tmp
        this.logs = Files.createDirectories(Path.of("target", "leader-logs"))
                .resolve(Long.toString(System.currentTimeMillis()));
    }

    Candidate start(String name) {
        int port = Ports.free();
        List<String> args = new ArrayList<>(List.of("--etcd", String.join(",", endpoints), "--name", name,
                "--http-port", Integer.toString(port)));
        args.addAll(extraArgs);
        JvmProcess p = JvmProcess.start(main, args, Map.of(), logs.resolve(name + ".log"));
        Candidate c = new Candidate(name, p, port);
        candidates.put(name, c);
        return c;
    }

    Candidate get(String name) {
        return candidates.get(name);
    }

    /** Registers live hosts whose liveness lease this test keeps alive. */
    void hosts(EtcdStore store, int n) {
        long lease = store.grantLease(Duration.ofSeconds(60));
        keepers.add(store.keepAlive(lease, Duration.ofSeconds(60), () -> { }));
        for (int i = 1; i <= n; i++) {
            String h = "h" + i;
            store.put(store.keys().host(h), new HostSpec(Map.of(), new Resources(16, 65536), "10.0.0." + i, false));
            store.put(store.keys().live(h), new Liveness(h, "10.0.0." + i, "test", 1, Instant.now()), lease);
        }
    }

    /** A counter from the candidate's /metrics, or -1 when it does not answer. */
    double metric(String name, String metric) {
        try {
            var resp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + candidates.get(name).httpPort()
                    + "/metrics")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            for (String line : resp.body().split("\n")) {
                if (line.startsWith(metric + " ") || line.startsWith(metric + "{")) {
                    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return 0;
        } catch (Exception e) {
            return -1;
        }
    }

    /** The body of the candidate's /healthz, or null when it does not answer. */
    String health(String name) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + candidates.get(name).httpPort()
                    + "/healthz")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return null;
        }
    }

    String logOf(String name) {
        return candidates.get(name).process().output();
    }

    @Override
    public void close() {
        for (Candidate c : candidates.values()) {
            if (c.process().alive()) {
                c.process().resume();
                c.process().kill9();
            }
        }
        for (AutoCloseable k : keepers) {
            try {
                k.close();
            } catch (Exception e) {
                // best effort
            }
        }
    }
}
