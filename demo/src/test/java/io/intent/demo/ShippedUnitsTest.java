package io.intent.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The systemd units in etc/systemd pass {@code systemd-analyze verify} and carry the hardening they promise. */
class ShippedUnitsTest {

    private static List<String> units() throws Exception {
        try (var files = Files.list(InstalledLaunchers.ETC.resolve("systemd"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".service")).sorted().toList();
        }
    }

    @Test
    void everyUnitPassesSystemdAnalyzeVerify(@TempDir Path dir) throws Exception {
        Path analyze = Prerequisites.require("systemd-analyze", "systemd");
        Path prefix = dir.resolve("opt-intent");
        InstalledLaunchers.install(prefix);
        List<String> cmd = new ArrayList<>(List.of(analyze.toString(), "verify"));
        for (String unit : units()) {
            cmd.add(InstalledLaunchers.unit(unit, prefix, dir.resolve("units")).toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("", out.strip(), "systemd-analyze verify has something to say");
    }

    @Test
    void theApiAndLeaderRunUnprivilegedAndGetTheirPasswordAsACredential() throws Exception {
        for (String unit : List.of("intent-api.service", "intent-leader.service")) {
            String text = Files.readString(InstalledLaunchers.ETC.resolve("systemd").resolve(unit));
            assertTrue(text.contains("\nDynamicUser=yes\n"), unit);
            assertTrue(text.contains("\nCapabilityBoundingSet=\n"), unit + ": no capabilities at all");
            assertTrue(text.contains("\nLoadCredential=etcd-password:/etc/intent/secrets/"), unit);
            assertTrue(text.contains("\nEnvironment=INTENT_ETCD_PASSWORD_FILE=%d/etcd-password\n"), unit);
        }
    }

    @Test
    void everyIntentUnitIsHardenedAndTheAgentsOwnTheirStateDirectory() throws Exception {
        for (String unit : units()) {
            String text = Files.readString(InstalledLaunchers.ETC.resolve("systemd").resolve(unit));
            if (unit.equals("intent-runsvdir.service")) {
                // the apps' supervisor: its sandbox would be every app's, so it stays as runit ships it
                continue;
            }
            for (String option : List.of("NoNewPrivileges=yes", "ProtectSystem=", "CapabilityBoundingSet=",
                    "PrivateTmp=yes", "LoadCredential=")) {
                assertTrue(text.contains("\n" + option), unit + " lacks " + option);
            }
            boolean agent = List.of("intent-node.service", "intent-preparer.service", "intent-iptables.service",
                    "intent-setlive.service").contains(unit);
            if (agent) {
                assertTrue(text.contains("\nStateDirectory=intent\n"), unit);
                assertTrue(text.contains("docker.service"), unit + ": docker apps need dockerd first");
            }
        }
    }
}
