package io.intent.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.daemon.config.ConfigDefaults;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A config file's keys are the command's options: a key that is none of them stops the process at start-up. */
class ConfigDefaultsTest {

    @Test
    void theVersionSetliveGivesAnAppInIntentVersionDoesNotTurnOnVersionHelp() {
        // intent-node run as the intent-node app gets INTENT_VERSION=<its version>, like every app
        String[] args = {"--host", "h1"};
        Map<String, String> env = Map.of("INTENT_VERSION", "A", "INTENT_HELP", "x", "INTENT_APP", "intent-node");
        CommandLine cl = ConfigDefaults.install(new CommandLine(new Versioned()), args, env);
        assertEquals(0, cl.execute(args));
    }

    @Command(name = "versioned", mixinStandardHelpOptions = true)
    static final class Versioned implements java.util.concurrent.Callable<Integer> {
        @Mixin
        AgentOptions agent = new AgentOptions();

        @Override
        public Integer call() {
            return 0;
        }
    }

    @Command(name = "agent")
    static final class Agent implements java.util.concurrent.Callable<Integer> {
        @Mixin
        AgentOptions agent = new AgentOptions();

        @Option(names = "--lease-ttl", defaultValue = "5")
        int leaseTtl;

        @Option(names = "--host-grace", defaultValue = "30")
        int hostGrace;

        @Override
        public Integer call() {
            return 0;
        }
    }

    private static CommandLine commandLine(Path config) {
        String[] args = {"--config", config.toString()};
        return ConfigDefaults.install(new CommandLine(new Agent()), args, Map.of());
    }

    @Test
    void anUnknownKeyIsAnErrorNamingItAndTheClosestKnownOne(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("a.yaml");
        Files.writeString(cfg, "host: a\nttl: 9\n");
        var e = assertThrows(CommandLine.ParameterException.class,
                () -> commandLine(cfg).parseArgs("--config", cfg.toString()));
        assertTrue(e.getMessage().contains("'ttl'"), e.getMessage());
        assertTrue(e.getMessage().contains("'lease-ttl'"), e.getMessage());
        assertTrue(e.getMessage().contains(cfg.toString()), e.getMessage());
    }

    @Test
    void aMisspeltKeyIsMatchedToTheNearestOption(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("a.yaml");
        Files.writeString(cfg, "etcd-pasword-file: /x\n");
        var e = assertThrows(CommandLine.ParameterException.class,
                () -> commandLine(cfg).parseArgs("--config", cfg.toString()));
        assertTrue(e.getMessage().contains("'etcd-password-file'"), e.getMessage());
    }

    @Test
    void anUnknownKeyMakesTheProcessExitWithUsageErrorBeforeItRuns(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("a.yaml");
        Files.writeString(cfg, "grace: 9\n");
        CommandLine cl = commandLine(cfg);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("--config", cfg.toString()));
        assertTrue(err.toString().contains("'grace'") && err.toString().contains("'host-grace'"), err.toString());
    }

    @Test
    void knownKeysStillSetDefaultsBelowFlagsAndTheEnvironment(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("a.yaml");
        Files.writeString(cfg, "lease-ttl: 9\nhost-grace: 12\netcd: [http://10.0.0.9:2379]\n");
        String[] args = {"--config", cfg.toString(), "--host-grace", "1"};
        Agent a = new Agent();
        ConfigDefaults.install(new CommandLine(a), args, Map.of("INTENT_LEASE_TTL", "3")).parseArgs(args);
        assertEquals(3, a.leaseTtl);
        assertEquals(1, a.hostGrace);
        assertEquals(List.of("http://10.0.0.9:2379"), a.agent.etcd.toConfig().endpoints());
    }
}
