package io.intent.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** etc/prometheus holds a valid scrape config and alert rules whose unit tests pass, as promtool judges them. */
class PrometheusFilesTest {
    private static final Path DIR = Path.of("..", "etc", "prometheus");

    private static String promtool(String... args) throws Exception {
        Path promtool = Prerequisites.require("promtool", "prometheus");
        List<String> cmd = new java.util.ArrayList<>(List.of(promtool.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool hung");
        assertEquals(0, p.exitValue(), String.join(" ", args) + ":\n" + out);
        return out;
    }

    @Test
    void theScrapeConfigAndItsRulesAreValid() throws Exception {
        String out = promtool("check", "config", "prometheus.yml");
        assertTrue(out.contains("rules found"), out);
    }

    @Test
    void theAlertsFireWhenTheirUnitTestsSayTheyShould() throws Exception {
        promtool("test", "rules", "intent-alerts.test.yml");
    }
}
