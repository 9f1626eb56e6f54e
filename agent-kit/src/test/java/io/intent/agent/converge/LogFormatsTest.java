package io.intent.agent.converge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.daemon.Logging;
import io.intent.store.codec.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The text and JSON log formats (LogConfigurator, chosen by INTENT_LOG_FORMAT) say the same things, MDC included. */
class LogFormatsTest {

    /** Logs one line with a request id in the MDC, as the API does around a request. */
    public static final class OneLine {
        public static void main(String[] args) {
            Logging.init();
            MDC.put("requestId", "r-42");
            LoggerFactory.getLogger("io.intent.api.ApiServer").info("handled {} in {} ms", "GET /v1/apps", 7);
            MDC.remove("requestId");
            LoggerFactory.getLogger("io.intent.api.ApiServer").info("no request here");
        }
    }

    private static List<String> run(String format) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), OneLine.class.getName());
        pb.environment().put("INTENT_LOG_FORMAT", format);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void jsonLinesCarryTheMdcAsTextLinesDo() throws Exception {
        List<String> json = run("json");
        List<String> text = run("text");
        assertEquals(2, json.size(), String.join("\n", json));
        assertEquals(2, text.size(), String.join("\n", text));

        JsonNode withId = Json.mapper().readTree(json.get(0));
        assertEquals("r-42", withId.path("mdc").path("requestId").asText(), json.get(0));
        assertEquals("handled GET /v1/apps in 7 ms", withId.path("formattedMessage").asText(), json.get(0));
        assertTrue(text.get(0).contains("[requestId=r-42]") && text.get(0).endsWith("handled GET /v1/apps in 7 ms"),
                text.get(0));

        JsonNode withoutId = Json.mapper().readTree(json.get(1));
        assertTrue(withoutId.path("mdc").isMissingNode() || withoutId.path("mdc").isEmpty(), json.get(1));
        assertTrue(!text.get(1).contains("[") || !text.get(1).contains("requestId"), text.get(1));
        assertTrue(text.get(1).endsWith("- no request here"), text.get(1));
    }
}
