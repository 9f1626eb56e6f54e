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
    void yamlFilesMayHoldSeveralDocuments() {
        var docs = Json.readYamlDocuments("a: 1\n---\nb: [1, 2]\n---\n");
        assertEquals(2, docs.size());
        assertThrows(InvalidValueException.class, () -> Json.readYamlDocuments("a: [1, 2\n"));
    }
}
