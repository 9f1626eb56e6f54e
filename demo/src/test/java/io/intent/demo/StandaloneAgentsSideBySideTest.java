package io.intent.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.codec.Json;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Pki;
import io.intent.testkit.Prerequisites;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three standalone agent units can run side by side on one host: each launcher, started as its unit starts
 * it ({@code --config /etc/intent/<agent>.yaml}, JSON logs), serves /readyz on its own shipped port. Only what
 * must differ on a test machine is overridden, through the environment as an operator would: etcd, host name,
 * root, loopback addresses, etcd's CA (etcd speaks TLS, with a CA made at test time), and the iptables backend
 * (the file one: no kernel rules outside a namespace).
 */
class StandaloneAgentsSideBySideTest {
    private static final List<String> AGENTS = List.of("preparer", "iptables", "setlive");

    private static int shippedPort(String config) throws Exception {
        var node = Json.readYamlDocuments(Files.readString(InstalledLaunchers.ETC.resolve("intent").resolve(config)));
        return node.get(0).path("http-port").asInt(-1);
    }

    @Test
    void theShippedPortsAreDistinctAndNotNodeExporters() throws Exception {
        var ports = new HashSet<Integer>();
        for (String config : List.of("node.yaml", "preparer.yaml", "iptables.yaml", "setlive.yaml", "leader.yaml")) {
            int port = shippedPort(config);
            assertTrue(port > 0, config + " names no http-port");
            assertNotEquals(9100, port, config + ": 9100 is node_exporter's");
            assertTrue(ports.add(port), config + ": port " + port + " is taken by another intent process");
        }
    }

    @Test
    void theThreeStandaloneAgentsStartWithTheirShippedConfigsOnOneHost(@TempDir Path dir) throws Exception {
        Path runsvdirBin = Prerequisites.require("runsvdir", "runit");
        Path bin = InstalledLaunchers.install(dir.resolve("opt-intent"));
        Path root = Files.createDirectories(dir.resolve("var-lib-intent"));
        Path services = Files.createDirectories(root.resolve("services"));
        List<Process> processes = new ArrayList<>();
        // the shipped configs speak TLS to etcd: a TLS-only etcd with a CA made here, as etc/tls/make-certs.sh makes
        Pki pki = Pki.create(Files.createDirectories(dir.resolve("tls")));
        try (EtcdCluster etcd = EtcdCluster.startTls(1, "127.0.0.1", pki)) {
            // intent-runsvdir.service's job: the shipped setlive config adopts an external runsvdir
            processes.add(new ProcessBuilder(runsvdirBin.toString(), "-P", services.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("runsvdir.log").toFile()).start());
            for (String agent : AGENTS) {
                ProcessBuilder pb = new ProcessBuilder(bin.resolve("intent-" + agent).toString(), "--config",
                        InstalledLaunchers.ETC.resolve("intent").resolve(agent + ".yaml").toString());
                Map<String, String> env = pb.environment();
                env.put("INTENT_LOG_FORMAT", "json");
                env.put("INTENT_JAVA_OPTS", "-Xmx128m -XX:TieredStopAtLevel=1");
                env.put("INTENT_ETCD", etcd.endpoints().get(0));
                env.put("INTENT_ETCD_CA", pki.ca().toString());
                env.put("INTENT_HOST", "side-by-side");
                env.put("INTENT_ROOT", root.toString());
                env.put("INTENT_ADDRESS", "127.0.0.1");
                env.put("INTENT_HTTP_ADDRESS", "127.0.0.1");
                env.put("INTENT_BACKEND", "file");
                pb.redirectErrorStream(true).redirectOutput(dir.resolve(agent + ".log").toFile());
                processes.add(pb.start());
            }
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            for (String agent : AGENTS) {
                int port = shippedPort(agent + ".yaml");
                Process p = processes.get(1 + AGENTS.indexOf(agent));
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> {
                    assertTrue(p.isAlive(), () -> agent + " exited: " + log(dir, agent));
                    try {
                        var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                        return r.statusCode() == 200 && r.body().contains("\"" + agent + "\"");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
            }
            for (int i = 1; i < processes.size(); i++) {
                assertTrue(processes.get(i).isAlive(), AGENTS.get(i - 1) + " died: " + log(dir, AGENTS.get(i - 1)));
            }
            var metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + shippedPort("setlive.yaml")
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("jvm_memory_used_bytes"), "JVM metrics");
            assertTrue(metrics.body().contains("process_cpu_seconds_total"), "process metrics");
            assertTrue(metrics.body().contains("intent_etcd_request_seconds_bucket"), "etcd call histogram");
        } finally {
            for (Process p : reversed(processes)) {
                p.destroy();
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    private static List<Process> reversed(List<Process> list) {
        List<Process> out = new ArrayList<>(list);
        java.util.Collections.reverse(out);
        return out;
    }

    private static String log(Path dir, String agent) {
        try {
            return Files.readString(dir.resolve(agent + ".log"));
        } catch (java.io.IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
