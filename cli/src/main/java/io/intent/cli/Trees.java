package io.intent.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The API's answers as JSON trees, built from Jackson's streaming parser. An {@code ObjectMapper} is not built
 * for a {@code get}: its set-up (type factory, serializer and deserializer caches, the codec's Java-time module
 * and YAML mapper) is about a third of the CPU time of a fresh JVM's whole call.
 */
final class Trees {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            // an answer is the API's, but a proxy in between could send anything
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Trees() {
    }

    /** Parses exactly one JSON document; IOException when it is not JSON or has trailing content. */
    static JsonNode read(byte[] json) throws IOException {
        try (JsonParser p = FACTORY.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new IOException("no JSON value");
            }
            JsonNode root = read(p, t);
            if (p.nextToken() != null) {
                throw new IOException("trailing content after the JSON value at " + p.currentLocation());
            }
            return root;
        }
    }

    /** The value starting at token {@code t}; containers are filled with an explicit stack, not recursion. */
    private static JsonNode read(JsonParser p, JsonToken t) throws IOException {
        if (!t.isStructStart()) {
            return scalar(p, t);
        }
        Deque<JsonNode> open = new ArrayDeque<>();
        JsonNode root = t == JsonToken.START_OBJECT ? NODES.objectNode() : NODES.arrayNode();
        open.push(root);
        String field = null;
        while (!open.isEmpty()) {
            t = p.nextToken();
            if (t == null) {
                throw new IOException("unexpected end of JSON");
            }
            if (t == JsonToken.FIELD_NAME) {
                field = p.currentName();
                continue;
            }
            if (t.isStructEnd()) {
                open.pop();
                continue;
            }
            JsonNode value = t == JsonToken.START_OBJECT ? NODES.objectNode()
                    : t == JsonToken.START_ARRAY ? NODES.arrayNode() : scalar(p, t);
            JsonNode parent = open.peek();
            if (parent instanceof ObjectNode o) {
                o.set(field, value);
            } else {
                ((ArrayNode) parent).add(value);
            }
            if (t.isStructStart()) {
                open.push(value);
            }
        }
        return root;
    }

    private static JsonNode scalar(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    ? NODES.numberNode(p.getBigIntegerValue())
                    : p.getNumberType() == JsonParser.NumberType.LONG ? NODES.numberNode(p.getLongValue())
                    : NODES.numberNode(p.getIntValue());
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new IOException("unexpected " + t + " at " + p.currentLocation());
        };
    }
}
