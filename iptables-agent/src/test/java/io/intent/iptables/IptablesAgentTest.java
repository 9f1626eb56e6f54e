package io.intent.iptables;

import static io.intent.iptables.Intents.assignment;
import static io.intent.iptables.Intents.tcp;
import static io.intent.iptables.Intents.udp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.KeyLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Phase;
import io.intent.store.model.PortSpec;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.NetNs;
import io.intent.testkit.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The iptables agent as it runs on a host: real etcd, the converge kit, and the real iptables inside a fresh
 * network namespace. Assertions look at the kernel's tables and at the statuses in etcd.
 */
class IptablesAgentTest {
    static final String C = "INTENT-INPUT";
    static final String HOST = "h1";
    static final Duration WAIT = Duration.ofSeconds(30);
    static EtcdCluster etcd;
    static int roots;

    @TempDir
    Path dir;
    NetNs ns;
    EtcdStore store;
    KeyLayout keys;
    String root;
    final List<Runnable> stops = new ArrayList<>();

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.single();
    }

    @AfterAll
    static void stopEtcd() {
        etcd.close();
    }

    @BeforeEach
    void setUp() {
        Prerequisites.require("iptables", "iptables");
        ns = NetNs.create();
        root = "/ipt" + (++roots);
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()).withRoot(root));
        keys = store.keys();
    }

    @AfterEach
    void tearDown() {
        for (int i = stops.size() - 1; i >= 0; i--) {
            stops.get(i).run();
        }
        store.close();
        ns.close();
    }

    /** Starts the agent in this JVM, configured by flags like the real one. */
    AgentRuntime agent(String... extra) {
        List<String> args = new ArrayList<>(List.of("--etcd", String.join(",", etcd.endpoints()), "--key-root", root,
                "--host", HOST, "--root", dir.resolve("root").toString(), "--http-port", "-1", "--resync", "1"));
        args.addAll(List.of(extra));
        IptablesMain main = new IptablesMain();
        new CommandLine(main).parseArgs(args.toArray(String[]::new));
        AgentRuntime runtime = main.start();
        stops.add(runtime::close);
        return runtime;
    }

    /** The agent's atomic writes of one table family's chain, as its /metrics reports them. */
    static long writes(AgentRuntime agent, String family) {
        return (long) agent.metrics().get("intent_iptables_writes_total").tag("family", family).functionCounter()
                .count();
    }

    /** The agent's sync passes of one table family, as its /metrics reports them. */
    static long passes(AgentRuntime agent, String family) {
        return (long) agent.metrics().get("intent_iptables_passes_total").tag("family", family).functionCounter()
                .count();
    }

    AgentRuntime kernelAgent() {
        return agent("--backend", "iptables", "--command-prefix", ns.prefixString());
    }

    void assign(String app, PortSpec... ports) {
        store.put(keys.assignment(HOST, app), assignment(app, ports));
    }

    Optional<AgentStatus> status(String app) {
        return store.get(keys.status(HOST, app, "iptables"), AgentStatus.class).map(Entry::value);
    }

    void awaitReady(String app, int rules) {
        await().atMost(WAIT).untilAsserted(() -> {
            AgentStatus s = status(app).orElseThrow(() -> new AssertionError("no status for " + app));
            assertEquals(Phase.READY, s.phase(), s.message());
            assertEquals(rules, ((Number) s.details().get("rules")).intValue());
        });
    }

    ChainState kernel() {
        return ChainState.parse(C, ns.execOk("iptables-save", "-t", "filter"));
    }

    List<String> kernelPorts() {
        return kernel().rules().stream().map(r -> r.replaceAll(".*--dport (\\d+).*app=([a-z0-9-]+) port=.*",
                "$2:$1")).toList();
    }

    String save(String table) {
        return Arrays.stream(ns.execOk("iptables-save", "-t", table).split("\n"))
                .filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n"));
    }

    /** The save without our chains and jumps (and DOCKER-USER, which the agent makes when dockerd has not). */
    String notOurs(String save) {
        String d = ChainRenderer.DEFAULT_DOCKER_CHAIN;
        return Arrays.stream(save.split("\n")).filter(l -> !l.startsWith(":" + C + " ")
                && !l.startsWith("-A " + C + " ") && !l.equals("-A INPUT -j " + C) && !l.startsWith(":" + d + " ")
                && !l.startsWith("-A " + d + " ") && !l.equals("-A DOCKER-USER -j " + d)
                && !l.startsWith(":DOCKER-USER ")).collect(Collectors.joining("\n"));
    }

    @Test
    void assignedPortsAreOpenedChangedAndRemovedAndForeignRulesAreLeftExactlyAsTheyWere() {
        ns.execOk("iptables", "-N", "FOREIGN");
        ns.execOk("iptables", "-A", "FOREIGN", "-s", "10.9.0.0/16", "-j", "DROP");
        ns.execOk("iptables", "-A", "INPUT", "-j", "FOREIGN");
        ns.execOk("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT");
        ns.execOk("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "--dport", "1", "-j", "REDIRECT",
                "--to-ports", "2");
        String filterBefore = save("filter");
        String natBefore = save("nat");
        kernelAgent();

        assign("web", tcp("http", 8080), udp("stats", 8125, "10.0.0.0/8", "192.168.0.0/16"));
        assign("db", tcp("pg", 5432));
        awaitReady("web", 3);
        awaitReady("db", 1);
        assertEquals(List.of("db:5432", "web:8080", "web:8125", "web:8125"), kernelPorts());
        assertEquals(1, kernel().jumps());

        assign("web", tcp("http", 8081));
        awaitReady("web", 1);
        assertEquals(List.of("db:5432", "web:8081"), kernelPorts());

        store.delete(keys.assignment(HOST, "db"));
        await().atMost(WAIT).until(() -> status("db").isEmpty());
        assertEquals(List.of("web:8081"), kernelPorts());

        assertEquals(notOurs(filterBefore), notOurs(save("filter")));
        assertEquals(natBefore, save("nat"));
    }

    @Test
    void rulesAddedOrDeletedByHandInOurChainAreRepairedAtTheNextResync() {
        kernelAgent();
        assign("web", tcp("http", 8080), tcp("admin", 9090));
        awaitReady("web", 2);
        List<String> want = kernel().rules();

        ns.execOk("iptables", "-D", C, "1");
        ns.execOk("iptables", "-A", C, "-p", "tcp", "--dport", "6666", "-j", "ACCEPT");
        ns.execOk("iptables", "-A", "INPUT", "-j", C);
        await().atMost(WAIT).untilAsserted(() -> {
            ChainState k = kernel();
            assertEquals(want, k.rules());
            assertEquals(1, k.jumps());
        });

        ns.execOk("iptables", "-D", "INPUT", "-j", C);
        ns.execOk("iptables", "-F", C);
        await().atMost(WAIT).untilAsserted(() -> {
            ChainState k = kernel();
            assertEquals(want, k.rules());
            assertEquals(1, k.jumps());
        });
    }

    @Test
    void onAHostWithNoAppsTheChainAndItsJumpExistAndHandMadeRulesInItAreRemoved() {
        kernelAgent();
        await().atMost(WAIT).untilAsserted(() -> {
            ChainState k = kernel();
            assertTrue(k.exists());
            assertEquals(1, k.jumps());
        });
        ns.execOk("iptables", "-A", C, "-p", "tcp", "--dport", "6666", "-j", "ACCEPT");
        await().atMost(WAIT).untilAsserted(() -> assertEquals(List.of(), kernel().rules()));
    }

    @Test
    void aMalformedPortFailsThatAppWithTheReasonAndTheOtherAppsRulesAreStillApplied() {
        kernelAgent();
        assign("bad", tcp("http", 8080), tcp("admin", 70000));
        assign("good", tcp("http", 80));
        assign("also-good", udp("dns", 53));
        awaitReady("good", 1);
        awaitReady("also-good", 1);
        await().atMost(WAIT).untilAsserted(() -> {
            AgentStatus s = status("bad").orElseThrow();
            assertEquals(Phase.FAILED, s.phase());
            assertTrue(s.message().contains("ports[1].port: 70000 is out of range 1-65535"), s.message());
        });
        assertEquals(List.of("also-good:53", "good:80"), kernelPorts());

        // broken JSON is reported by the converge kit and hurts nobody either
        store.putBytes(keys.assignment(HOST, "garbled"), "{not json".getBytes(), 0);
        assign("late", tcp("http", 81));
        awaitReady("late", 1);
        assertEquals(List.of("also-good:53", "good:80", "late:81"), kernelPorts());
        await().atMost(WAIT).until(() -> status("garbled").map(s -> s.phase() == Phase.FAILED).orElse(false));

        // once fixed, the app's rules go in
        assign("bad", tcp("http", 8080), tcp("admin", 7000));
        awaitReady("bad", 2);
        assertEquals(List.of("also-good:53", "bad:7000", "bad:8080", "good:80", "late:81"), kernelPorts());
    }

    @Test
    void aRestartWithNothingChangedMakesNoRestoreCallAndKeepsTheRulesCounters() {
        AgentRuntime first = kernelAgent();
        assign("web", tcp("http", 8080));
        assign("dns", udp("dns", 5353));
        awaitReady("web", 1);
        awaitReady("dns", 1);
        // one restore, or two when the start-up pass made the empty chain before the apps were seen
        long writes = writes(first, "ipv4");
        assertTrue(writes == 1 || writes == 2, "restores: " + writes);
        // real traffic through our chain gives its rules non-zero counters, which any restore would reset
        ns.execOk("bash", "-c", "for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/5353; done");
        String counters = counters();
        assertTrue(counters.contains("[3:"), counters);
        long statusRevision = store.get(keys.status(HOST, "web", "iptables"), AgentStatus.class).orElseThrow()
                .modRevision();
        stops.remove(0).run();

        AgentRuntime second = kernelAgent();
        await().atMost(WAIT).until(() -> passes(second, "ipv4") >= 1);
        awaitReady("web", 1);
        awaitReady("dns", 1);
        assertEquals(0, writes(second, "ipv4"));
        assertEquals(counters, counters());
        assertEquals(statusRevision, store.get(keys.status(HOST, "web", "iptables"), AgentStatus.class)
                .orElseThrow().modRevision());
    }

    String counters() {
        return Arrays.stream(ns.execOk("iptables-save", "-c", "-t", "filter").split("\n"))
                .filter(l -> l.contains("-A " + C + " ")).collect(Collectors.joining("\n"));
    }

    @Test
    void changesArrivingWithinTheDebounceWindowAreAppliedWithOneRestore() {
        // a wide window, so eight separate puts fit in it even on a loaded machine; the default is 100 ms
        AgentRuntime agent = agent("--backend", "iptables", "--command-prefix", ns.prefixString(),
                "--debounce", "1500");
        assign("first", tcp("http", 1000));
        awaitReady("first", 1);
        long before = writes(agent, "ipv4");
        for (int i = 0; i < 8; i++) {
            assign("burst-" + i, tcp("http", 2000 + i));
        }
        for (int i = 0; i < 8; i++) {
            awaitReady("burst-" + i, 1);
        }
        assertEquals(9, kernel().rules().size());
        assertEquals(before + 1, writes(agent, "ipv4"));
    }

    @Test
    void withIpv6TheSameChainIsKeptInBothTablesAndTheStatusCountsBoth() {
        AgentRuntime agent = agent("--backend", "iptables", "--command-prefix", ns.prefixString(), "--ipv6");
        assign("web", tcp("http", 8080), udp("stats", 8125, "10.0.0.0/8"));
        awaitReady("web", 2);
        long writes6 = writes(agent, "ipv6");
        AgentStatus s = status("web").orElseThrow();
        assertEquals(1, ((Number) s.details().get("rules6")).intValue());
        assertEquals("2 rules in INTENT-INPUT (IPv6: 1)", s.message());
        ChainState v6 = ChainState.parse(C, ns.execOk("ip6tables-save", "-t", "filter"));
        assertEquals(1, v6.jumps());
        assertEquals(List.of("-A INTENT-INPUT -p tcp -m tcp --dport 8080 -m comment"
                + " --comment \"intent:app=web port=http\" -j ACCEPT"), v6.rules());

        store.delete(keys.assignment(HOST, "web"));
        await().atMost(WAIT).until(() -> status("web").isEmpty());
        assertEquals(List.of(), kernel().rules());
        assertEquals(List.of(), ChainState.parse(C, ns.execOk("ip6tables-save", "-t", "filter")).rules());
        assertEquals(writes6 + 1, writes(agent, "ipv6"));
    }

    @Test
    void rulesOfAppsRemovedWhileTheAgentWasDownAreRemovedAfterItStarts() {
        kernelAgent();
        assign("web", tcp("http", 8080));
        assign("old", tcp("http", 9000));
        awaitReady("old", 1);
        stops.remove(0).run();
        store.delete(keys.assignment(HOST, "old"));
        store.delete(keys.status(HOST, "old", "iptables"));

        kernelAgent();
        await().atMost(WAIT).untilAsserted(() -> assertEquals(List.of("web:8080"), kernelPorts()));
    }

    @Test
    void theFileBackendWritesTheChainAtomicallyAsARestoreScriptTheKernelAccepts() throws Exception {
        Path rules = dir.resolve("rules").resolve("intent.rules");
        AgentRuntime agent = agent("--backend", "file", "--rules-file", rules.toString(), "--chain", "MY-APPS");
        assign("web", tcp("http", 8080, "10.0.0.1/8"));
        assign("db", tcp("pg", 5432));
        await().atMost(WAIT).untilAsserted(() -> {
            assertTrue(Files.exists(rules));
            assertEquals(2, ChainState.parse("MY-APPS", Files.readString(rules)).rules().size());
        });
        awaitReady("web", 1);
        String text = Files.readString(rules);
        assertTrue(text.startsWith("*filter\n:MY-APPS - [0:0]\n-I INPUT -j MY-APPS\n"), text);
        try (var files = Files.list(rules.getParent())) {
            assertEquals(List.of(rules, rules.resolveSibling(rules.getFileName() + ".docker")),
                    files.sorted().toList(), "no temp files are left behind (the docker chain has its own file)");
        }
        // the file is what the kernel would hold: feed it to the real iptables-restore and read it back
        NetNs.Output restored = ns.execWithInput(text, "iptables-restore", "--noflush", "-w");
        assertTrue(restored.ok(), restored.stderr());
        assertEquals(ChainState.parse("MY-APPS", text).rules(),
                ChainState.parse("MY-APPS", ns.execOk("iptables-save", "-t", "filter")).rules());

        long writes = writes(agent, "ipv4");
        store.delete(keys.assignment(HOST, "db"));
        await().atMost(WAIT).until(() -> status("db").isEmpty());
        assertEquals(1, ChainState.parse("MY-APPS", Files.readString(rules)).rules().size());
        assertEquals(writes + 1, writes(agent, "ipv4"));
        assertFalse(Files.readString(rules).contains("5432"));
    }
}
