package io.intent.store.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Phase;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void unknownFieldsAreRejectedWithTheirPath() {
        var ex = assertThrows(InvalidValueException.class, () -> Json.read(
                "{\"versions\":{\"1\":{\"artifact\":\"file:///x\",\"sha\":\"x\"}},\"active\":\"1\"}", AppIntent.class));
        assertEquals("unknown field 'sha' (at versions.1.sha)", ex.getMessage());
    }

    @Test
    void brokenJsonSaysWhere() {
        var ex = assertThrows(InvalidValueException.class, () -> Json.read("{\"active\": }", AppIntent.class));
        assertTrue(ex.getMessage().startsWith("malformed JSON: "), ex.getMessage());
        assertTrue(ex.getMessage().contains("line 1"), ex.getMessage());
    }

    @Test
    void wrongTypesSayWhichField() {
        var ex = assertThrows(InvalidValueException.class, () -> Json.read("{\"scale\":\"three\"}", AppIntent.class));
        assertTrue(ex.getMessage().contains("scale"), ex.getMessage());
    }

    @Test
    void oversizedValuesAreRejectedBeforeParsing() {
        String big = "{\"active\":\"" + "x".repeat(Json.MAX_VALUE_BYTES) + "\"}";
        var ex = assertThrows(InvalidValueException.class, () -> Json.read(big, AppIntent.class));
        assertTrue(ex.getMessage().contains("over the limit"), ex.getMessage());
    }

    @Test
    void deeplyNestedValuesAreRejected() {
        String deep = "{\"run\":{\"env\":" + "[".repeat(2000) + "]".repeat(2000) + "}}";
        assertThrows(InvalidValueException.class, () -> Json.read(deep, AppIntent.class));
    }

    @Test
    void trailingGarbageIsRejected() {
        assertThrows(InvalidValueException.class, () -> Json.read("{} {}", AppIntent.class));
    }

    @Test
    void statusRoundTripsWithReadableTimestamps() {
        var s = new AgentStatus("preparer", Phase.READY, "1.0", 42, "ok", 0, Instant.parse("2026-01-02T03:04:05Z"),
                null, Map.of("versions", java.util.List.of("1.0")));
        String json = Json.writeString(s);
        assertTrue(json.contains("\"since\":\"2026-01-02T03:04:05Z\""), json);
        assertEquals(s, Json.read(json, AgentStatus.class));
    }

    @Test
    void everyModelRoundTripsThroughStrictJson() {
        var app = new io.intent.store.model.AppIntent(
                Map.of("1.0", new io.intent.store.model.VersionSpec("https://r.example/a.tar.gz", "a".repeat(64), null,
                        null)), "1.0",
                new io.intent.store.model.RunSpec(java.util.List.of("bin/server"), Map.of("MODE", "prod"), "app"),
                java.util.List.of(new io.intent.store.model.PortSpec("http", 8080, "tcp",
                        java.util.List.of("10.0.0.0/8"))), 3, new io.intent.store.model.Resources(0.5, 256),
                new io.intent.store.model.Constraints(Map.of("zone", "a"), Map.of("disk", "ssd")),
                new io.intent.store.model.HealthSpec("/healthz", "http", 10), "docker", true, 2);
        Object[] values = {app, new io.intent.store.model.Assignment("web", "h1", 7, app),
            new io.intent.store.model.HostSpec(Map.of("zone", "a"), new io.intent.store.model.Resources(4, 8192),
                    "127.0.0.2", true),
            new io.intent.store.model.Liveness("h1", "127.0.0.2", "preparer", 42, Instant.parse("2026-01-01T00:00:00Z")),
            new io.intent.store.model.Placement(java.util.List.of("h1"), 3, 7, "no host has label zone=b"),
            new io.intent.store.model.Endpoint("web", "h1", "127.0.0.2", "1.0", Map.of("http", 8080),
                    Instant.parse("2026-01-01T00:00:00Z"))};
        for (Object v : values) {
            assertEquals(v, Json.read(Json.write(v), v.getClass()), v.getClass().getSimpleName());
        }
    }

    @Test
    void yamlFilesMayHoldSeveralDocuments() {
        var docs = Json.readYamlDocuments("a: 1\n---\nb: [1, 2]\n---\n");
        assertEquals(2, docs.size());
        assertThrows(InvalidValueException.class, () -> Json.readYamlDocuments("a: [1, 2\n"));
    }
}
