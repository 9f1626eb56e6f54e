package io.intent.iptables;

import static io.intent.iptables.Intents.assignment;
import static io.intent.iptables.Intents.tcp;
import static io.intent.iptables.Intents.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.Assignment;
import io.intent.testkit.NetNs;
import io.intent.testkit.Prerequisites;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The kernel backend and a sync pass against the real iptables, always inside a fresh network namespace. */
class KernelBackendTest {
    static final String C = "INTENT-INPUT";
    NetNs ns;
    KernelBackend backend;
    Map<String, Assignment> desired = new ConcurrentHashMap<>();
    ChainSync sync;
    long revision;

    @BeforeEach
    void namespace() {
        Prerequisites.require("iptables", "iptables");
        ns = NetNs.create();
        backend = new KernelBackend(ns.prefix(), "iptables");
        sync = new ChainSync(C, backend);
    }

    @AfterEach
    void cleanup() {
        sync.close();
        ns.close();
    }

    String save(String table) {
        // the header and footer comments carry a timestamp; everything else must be byte-identical
        return Arrays.stream(ns.execOk("iptables-save", "-t", table).split("\n"))
                .filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n"));
    }

    String notOurs(String save) {
        return Arrays.stream(save.split("\n"))
                .filter(l -> !l.startsWith(":" + C + " ") && !l.startsWith("-A " + C + " ")
                        && !l.equals("-A INPUT -j " + C))
                .collect(Collectors.joining("\n"));
    }

    @Test
    void whatWeRenderIsByteForByteWhatTheKernelPrintsBack() throws Exception {
        desired.put("web", assignment("web", tcp("http", 8080), udp("dns", 53, "10.1.2.3/8", "192.168.7.7")));
        desired.put("db", assignment("db", tcp("pg", 5432, "0.0.0.0/0"), tcp("admin", 65535, "172.16.0.0/12")));
        SyncPass pass = sync.sync(DesiredSlice.of(++revision, desired));
        assertTrue(pass.ok(), pass.failure());
        assertTrue(pass.wrote());
        ChainState kernel = backend.read(C);
        assertEquals(pass.rules().rules(), kernel.rules());
        assertEquals(1, kernel.jumps());
        assertTrue(kernel.matches(pass.rules()));
        assertEquals(5, kernel.rules().size()); // web: 1 + 2 sources; db: anyone + 1
    }

    @Test
    void aSecondPassWithNothingChangedMakesNoRestoreCall() throws Exception {
        desired.put("web", assignment("web", tcp("http", 8080, "10.0.0.0/8")));
        sync.sync(DesiredSlice.of(++revision, desired));
        assertEquals(1, backend.writes());
        SyncPass again = sync.sync(DesiredSlice.of(++revision, desired));
        assertTrue(again.ok());
        assertEquals(false, again.wrote());
        assertEquals(1, backend.writes());
    }

    @Test
    void foreignChainsRulesAndTablesAreByteIdenticalAfterApplyChangeAndRemove() throws Exception {
        ns.execOk("iptables", "-N", "FOREIGN");
        ns.execOk("iptables", "-A", "FOREIGN", "-p", "tcp", "--dport", "22", "-j", "DROP");
        ns.execOk("iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
        ns.execOk("iptables", "-A", "INPUT", "-j", "FOREIGN");
        ns.execOk("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP");
        ns.execOk("iptables", "-A", "OUTPUT", "-p", "udp", "--dport", "53", "-j", "ACCEPT");
        ns.execOk("iptables", "-t", "nat", "-N", C);
        ns.execOk("iptables", "-t", "nat", "-A", C, "-p", "tcp", "--dport", "80", "-j", "REDIRECT", "--to-ports", "8080");
        String filterBefore = save("filter");
        String natBefore = save("nat");

        desired.put("web", assignment("web", tcp("http", 8080)));
        desired.put("db", assignment("db", tcp("pg", 5432)));
        assertTrue(sync.sync(DesiredSlice.of(++revision, desired)).ok());
        assertEquals(2, backend.read(C).rules().size());
        desired.put("web", assignment("web", tcp("http", 8081)));
        assertTrue(sync.sync(DesiredSlice.of(++revision, desired)).ok());
        desired.remove("db");
        assertTrue(sync.sync(DesiredSlice.of(++revision, desired)).ok());

        ChainState ours = backend.read(C);
        assertEquals(1, ours.rules().size());
        assertTrue(ours.rules().get(0).contains("--dport 8081"));
        assertEquals(notOurs(filterBefore), notOurs(save("filter")));
        assertEquals(natBefore, save("nat"));
        assertEquals(3, backend.writes());
    }

    @Test
    void handMadeDriftInOurChainAndRepeatedJumpsAreRepairedByTheNextPass() throws Exception {
        desired.put("web", assignment("web", tcp("http", 8080), tcp("admin", 9090)));
        sync.sync(DesiredSlice.of(++revision, desired));
        ns.execOk("iptables", "-A", C, "-p", "tcp", "--dport", "6666", "-j", "ACCEPT");
        ns.execOk("iptables", "-D", C, "1");
        ns.execOk("iptables", "-A", "INPUT", "-j", C);
        ns.execOk("iptables", "-A", "INPUT", "-j", C);
        assertEquals(3, backend.read(C).jumps());

        SyncPass repair = sync.sync(DesiredSlice.of(++revision, desired));
        assertTrue(repair.wrote());
        ChainState kernel = backend.read(C);
        assertTrue(kernel.matches(repair.rules()), kernel.toString());
        assertEquals(1, kernel.jumps());
    }

    @Test
    void aRemovedJumpIsPutBackAtTheTopOfInput() throws Exception {
        desired.put("web", assignment("web", tcp("http", 8080)));
        sync.sync(DesiredSlice.of(++revision, desired));
        ns.execOk("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "1", "-j", "DROP");
        ns.execOk("iptables", "-D", "INPUT", "-j", C);
        sync.sync(DesiredSlice.of(++revision, desired));
        List<String> input = Arrays.stream(ns.execOk("iptables", "-S", "INPUT").split("\n")).toList();
        assertEquals(List.of("-P INPUT ACCEPT", "-A INPUT -j " + C, "-A INPUT -p tcp -m tcp --dport 1 -j DROP"),
                input);
    }

    @Test
    void anInvalidAppKeepsItsRulesWhileTheOthersChange() throws Exception {
        desired.put("web", assignment("web", tcp("http", 8080)));
        desired.put("api", assignment("api", tcp("http", 7000)));
        sync.sync(DesiredSlice.of(++revision, desired));
        desired.put("web", assignment("web", tcp("http", 70000)));
        desired.put("api", assignment("api", tcp("http", 7001)));
        SyncPass pass = sync.sync(DesiredSlice.of(++revision, desired));
        assertTrue(pass.ok());
        List<String> rules = backend.read(C).rules();
        assertEquals(2, rules.size());
        assertTrue(rules.get(0).contains("app=api") && rules.get(0).contains("7001"), rules.toString());
        assertTrue(rules.get(1).contains("app=web") && rules.get(1).contains("8080"), rules.toString());
        assertEquals(io.intent.store.model.Phase.FAILED, pass.resultFor("web").phase());
        assertTrue(pass.resultFor("web").message().contains("70000 is out of range"), pass.resultFor("web").message());
        assertEquals(io.intent.store.model.Phase.READY, pass.resultFor("api").phase());
    }

    @Test
    void aRestoreTheKernelRejectsFailsWithIptablesOwnErrorAndChangesNothing() throws Exception {
        desired.put("web", assignment("web", tcp("http", 8080)));
        sync.sync(DesiredSlice.of(++revision, desired));
        String before = save("filter");
        IptablesException e = assertThrows(IptablesException.class, () -> backend.restore(
                "*filter\n:" + C + " - [0:0]\n-A " + C + " -p tcp -m tcp --dport 99999 -j ACCEPT\nCOMMIT\n"));
        assertTrue(e.getMessage().contains("invalid port/service `99999' specified"), e.getMessage());
        assertEquals(before, save("filter"));
    }

    @Test
    void theLegacyIptablesReadsBackWhatWeWroteSoItsSecondPassIsANoopToo() throws Exception {
        Prerequisites.require("iptables-legacy", "iptables");
        KernelBackend legacy = new KernelBackend(ns.prefix(), "iptables-legacy");
        desired.put("web", assignment("web", tcp("http", 8080, "10.1.0.0/16"), udp("dns", 53, "10.2.3.4")));
        try (ChainSync s = new ChainSync(C, legacy)) {
            SyncPass first = s.sync(DesiredSlice.of(1, desired));
            assertTrue(first.ok() && first.wrote(), first.failure());
            assertEquals(first.rules().rules(), legacy.read(C).rules());
            SyncPass second = s.sync(DesiredSlice.of(2, desired));
            assertTrue(second.ok() && !second.wrote());
            assertEquals(1, legacy.writes());
        }
    }

    @Test
    void inIpv6OnlyPortsOpenToAnyoneGetARuleAndIp6tablesPrintsThemBackByteForByte() throws Exception {
        Prerequisites.require("ip6tables", "iptables");
        KernelBackend v6 = new KernelBackend(ns.prefix(), "ip6tables");
        desired.put("web", assignment("web", tcp("http", 8080), udp("stats", 8125, "10.0.0.0/8")));
        try (ChainSync s = new ChainSync(C, true, v6)) {
            SyncPass first = s.sync(DesiredSlice.of(1, desired));
            assertTrue(first.ok() && first.wrote(), first.failure());
            assertEquals(List.of("-A INTENT-INPUT -p tcp -m tcp --dport 8080 -m comment"
                    + " --comment \"intent:app=web port=http\" -j ACCEPT"), v6.read(C).rules());
            assertEquals(1, v6.read(C).jumps());
            assertTrue(!s.sync(DesiredSlice.of(2, desired)).wrote());
        }
        assertEquals(ChainState.absent(C), backend.read(C), "the IPv4 table is not touched by the IPv6 sync");
    }

    @Test
    void aMissingIptablesCommandIsAClearFailureOfThePass() {
        KernelBackend missing = new KernelBackend(ns.prefix(), "no-such-iptables");
        try (ChainSync s = new ChainSync(C, missing)) {
            SyncPass pass = s.sync(DesiredSlice.of(1, desired));
            assertTrue(!pass.ok() && pass.failure().contains("no-such-iptables-save"), pass.failure());
        }
    }
}
