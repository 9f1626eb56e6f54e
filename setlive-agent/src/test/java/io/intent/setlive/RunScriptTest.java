package io.intent.setlive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.PortSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The run script renderer as a pure function, and once through a real /bin/sh with hostile values. */
class RunScriptTest {
    static final Path CURRENT = Path.of("/srv/intent/apps/web/current");

    static LaunchSpec spec(List<String> command, Map<String, String> env, String workdir) {
        return new LaunchSpec("web", "h1", "1.5.0", "process", "127.0.0.2", "/srv/intent/installs/web/1.5.0",
                command, env, workdir, List.of(new PortSpec("http", 8080, "tcp"), new PortSpec("admin-ui", 9090,
                "tcp")), null);
    }

    @Test
    void theAppGetsItsIdentityAndItsPortsInTheEnvironment() {
        Map<String, String> env = spec(List.of("bin/server"), Map.of("MODE", "prod"), null).environment("127.0.0.2");
        assertEquals("web", env.get("INTENT_APP"));
        assertEquals("1.5.0", env.get("INTENT_VERSION"));
        assertEquals("h1", env.get("INTENT_HOST"));
        assertEquals("127.0.0.2", env.get("INTENT_HOST_ADDR"));
        assertEquals("127.0.0.2", env.get("INTENT_BIND_ADDR"));
        assertEquals("8080", env.get("INTENT_PORT_HTTP"));
        assertEquals("9090", env.get("INTENT_PORT_ADMIN_UI"));
        assertEquals("prod", env.get("MODE"));
    }

    @Test
    void aRelativeCommandResolvesInsideTheInstallThroughCurrent() {
        String s = RunScript.render(spec(List.of("bin/server", "--port", "8080"), Map.of(), "web"), CURRENT);
        assertTrue(s.contains("'/srv/intent/apps/web/current/bin/server' '--port' '8080'"), s);
        assertTrue(s.contains("cd '/srv/intent/apps/web/current/web' || exit 111"), s);
        assertTrue(s.contains("exec env -i"), s);
        String plain = RunScript.render(spec(List.of("python3", "app.py"), Map.of(), null), CURRENT);
        assertTrue(plain.contains(" 'python3' 'app.py'"), plain);
    }

    @Test
    void commandsAndWorkdirsLeavingTheInstallAreRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> RunScript.render(spec(List.of("../../../bin/sh"), Map.of(), null), CURRENT));
        assertTrue(e.getMessage().contains("leaves the install"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> RunScript.render(spec(List.of("bin/x"), Map.of(), "a/../../.."), CURRENT));
        assertThrows(IllegalArgumentException.class,
                () -> RunScript.render(spec(List.of("A=b"), Map.of(), null), CURRENT));
        assertThrows(IllegalArgumentException.class,
                () -> RunScript.render(spec(List.of(), Map.of(), null), CURRENT));
        assertThrows(IllegalArgumentException.class,
                () -> RunScript.render(spec(List.of("x"), Map.of("BAD NAME", "v"), null), CURRENT));
    }

    @Test
    void theFingerprintIgnoresMapOrderButSeesEveryChange() {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("A", "1");
        a.put("B", "2");
        Map<String, String> b = new TreeMap<>(java.util.Comparator.reverseOrder());
        b.putAll(a);
        String one = RunScript.render(spec(List.of("bin/server"), a, null), CURRENT);
        assertEquals(one, RunScript.render(spec(List.of("bin/server"), b, null), CURRENT));
        assertNotEquals(one, RunScript.render(spec(List.of("bin/server"), Map.of("A", "1", "B", "3"), null),
                CURRENT));
        assertNotEquals(one, RunScript.render(spec(List.of("bin/server", "-v"), a, null), CURRENT));
    }

    @Test
    void hostileValuesReachTheAppByteForByteThroughARealShell() throws Exception {
        String hostile = "it's $(touch /tmp/pwned) `id` \"q\" \\ ; & | > < * ?\nnext line\ttab ünï";
        Path dir = Files.createTempDirectory("runscript");
        Path current = Files.createDirectories(dir.resolve("apps/web/current"));
        Path out = dir.resolve("env.out");
        LaunchSpec s = spec(List.of("/usr/bin/env"), Map.of("HOSTILE", hostile, "EMPTY", ""), null);
        String script = RunScript.render(s, current);
        Path run = dir.resolve("run");
        Files.writeString(run, script);
        // runsv pipes the app's stdout into its log service; here a file stands in for that pipe
        Process p = new ProcessBuilder("/bin/sh", run.toString()).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        String env = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(env.contains("HOSTILE=" + hostile + "\n"), env);
        assertTrue(env.contains("EMPTY=\n"), env);
        assertTrue(env.contains("INTENT_VERSION=1.5.0\n"), env);
        assertTrue(env.startsWith("PATH=" + RunScript.PATH + "\n"), "clean environment, PATH first: " + env);
        assertTrue(!Files.exists(Path.of("/tmp/pwned")), "nothing in a value was executed");
        AtomicFiles.deleteTree(dir);
    }
}
