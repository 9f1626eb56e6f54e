package io.intent.iptables;

import static io.intent.iptables.Intents.assignment;
import static io.intent.iptables.Intents.tcp;
import static io.intent.iptables.Intents.udp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.NetNs;
import io.intent.testkit.Ports;
import io.intent.testkit.Prerequisites;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real agent process, SIGKILLed and started again, against real etcd and iptables in a fresh netns. */
class IptablesAgentCrashTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void anAgentKilledWithSigkillAndStartedAgainFindsTheChainInPlaceAndMakesNoRestoreCall() throws Exception {
        Prerequisites.require("iptables", "iptables");
        try (EtcdCluster etcd = EtcdCluster.single(); NetNs ns = NetNs.create();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            KeyLayout keys = store.keys();
            store.put(keys.assignment("h1", "web"), assignment("web", tcp("http", 8080)));
            store.put(keys.assignment("h1", "dns"), assignment("dns", udp("dns", 5353)));

            int port = Ports.free();
            JvmProcess first = agent(etcd, ns, port, "first.log");
            try {
                awaitReady(store, keys, "web");
                awaitReady(store, keys, "dns");
                // the apps were assigned before the agent started, so its first pass applies them all at once
                assertEquals(1, metric(port, "intent_iptables_writes_total"));
                ns.execOk("bash", "-c", "for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/5353; done");
            } finally {
                first.kill9();
            }
            String counters = counters(ns);
            assertTrue(counters.contains("[3:"), counters);

            JvmProcess second = agent(etcd, ns, port, "second.log");
            try {
                await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                        .until(() -> metric(port, "intent_iptables_passes_total") >= 1);
                assertEquals(0, metric(port, "intent_iptables_writes_total"));
                assertEquals(counters, counters(ns), "a restore would have reset the rules' counters");
                awaitReady(store, keys, "web");
            } finally {
                second.terminate(20);
            }
        }
    }

    @Test
    void whileEtcdIsDownTheChainIsLeftAsItIsAndChangesApplyWhenItIsBack() throws Exception {
        Prerequisites.require("iptables", "iptables");
        try (EtcdCluster etcd = EtcdCluster.single(); NetNs ns = NetNs.create();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            KeyLayout keys = store.keys();
            store.put(keys.assignment("h1", "web"), assignment("web", tcp("http", 8080)));
            int port = Ports.free();
            JvmProcess agent = agent(etcd, ns, port, "agent.log", "--resync", "1");
            try {
                awaitReady(store, keys, "web");
                String rules = counters(ns);
                double writes = metric(port, "intent_iptables_writes_total");
                etcd.kill(0);
                // several resyncs come and go without a store; none may tear the rules down
                // each look spawns iptables-save and scrapes /metrics: every 500 ms, with headroom for a loaded machine
                await().pollInterval(Duration.ofMillis(500)).during(Duration.ofSeconds(5)).atMost(WAIT)
                        .untilAsserted(() -> {
                            assertEquals(rules, counters(ns));
                            assertEquals(writes, metric(port, "intent_iptables_writes_total"));
                        });
                etcd.restart(0);
                await().atMost(WAIT).ignoreExceptions().until(() -> {
                    store.put(keys.assignment("h1", "web"), assignment("web", tcp("http", 8081)));
                    return true;
                });
                await().atMost(WAIT).until(() -> counters(ns).contains("--dport 8081"));
            } finally {
                agent.terminate(20);
            }
        }
    }

    JvmProcess agent(EtcdCluster etcd, NetNs ns, int port, String log, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("--etcd", String.join(",", etcd.endpoints()),
                "--host", "h1", "--root", dir.resolve("root").toString(), "--http-port", String.valueOf(port),
                "--backend", "iptables", "--command-prefix", ns.prefixString()));
        args.addAll(List.of(extra));
        return JvmProcess.start(IptablesMain.class, args, Map.of(), dir.resolve(log));
    }

    static void awaitReady(EtcdStore store, KeyLayout keys, String app) {
        await().atMost(WAIT).until(() -> store.get(keys.status("h1", app, "iptables"), AgentStatus.class)
                .map(e -> e.value().phase() == Phase.READY).orElse(false));
    }

    static String counters(NetNs ns) {
        return Arrays.stream(ns.execOk("iptables-save", "-c", "-t", "filter").split("\n"))
                .filter(l -> l.contains("-A INTENT-INPUT ")).collect(Collectors.joining("\n"));
    }

    static double metric(int port, String name) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(r.body());
        if (!m.find()) {
            throw new AssertionError(name + " not in /metrics");
        }
        return Double.parseDouble(m.group(2));
    }
}
