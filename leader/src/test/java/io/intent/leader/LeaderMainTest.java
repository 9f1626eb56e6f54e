package io.intent.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader process is configured from flags, the environment and a config file, in that order of precedence. */
class LeaderMainTest {

    private static LeaderMain parse(Map<String, String> env, String... args) {
        var cl = LeaderMain.commandLine(args, env);
        cl.parseArgs(args);
        return cl.getCommand();
    }

    @Test
    void flagsWinOverTheEnvironmentWhichWinsOverTheConfigFile(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("leader.yaml");
        Files.writeString(cfg, "lease-ttl: 9\nhost-grace: 12.5\nname: from-file\netcd: [http://10.0.0.9:2379]\n");
        LeaderMain m = parse(Map.of("INTENT_LEASE_TTL", "3"), "--config", cfg.toString(), "--name", "from-flag");
        assertEquals(3, m.leaseTtlSeconds);
        assertEquals(12.5, m.hostGraceSeconds);
        assertEquals("from-flag", m.candidateName());
        assertEquals(List.of("http://10.0.0.9:2379"), m.etcd.toConfig().endpoints());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        LeaderMain m = parse(Map.of());
        assertEquals(5, m.leaseTtlSeconds);
        assertEquals(30.0, m.hostGraceSeconds);
        assertEquals(50, m.coalesceMs);
        assertTrue(m.candidateName().endsWith("-" + ProcessHandle.current().pid()));
    }

    @Test
    void aBadFlagIsAClearErrorAndAnExitCode() {
        var cl = LeaderMain.commandLine(new String[] {"--lease-ttl", "soon"}, Map.of());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("--lease-ttl", "soon");
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("--lease-ttl"), err.toString());
    }
}
