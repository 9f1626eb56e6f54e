package io.intent.store.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place that turns model records into bytes and back: strict JSON for etcd (unknown fields and
 * oversized values rejected), YAML accepted from files.
 */
public final class Json {

    /** Largest value accepted at any key; etcd's own request limit is 1.5 MiB. */
    public static final int MAX_VALUE_BYTES = 256 * 1024;

    private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxStringLength(64 * 1024)
            .maxNestingDepth(32)
            .maxNumberLength(64)
            .build();

    private static final ObjectMapper JSON = configure(JsonMapper.builder().build());
    private static final ObjectMapper YAML = configure(YAMLMapper.builder(
            YAMLFactory.builder().streamReadConstraints(LIMITS).build()).build());

    static {
        JSON.getFactory().setStreamReadConstraints(LIMITS);
    }

    private Json() {
    }

    private static ObjectMapper configure(ObjectMapper m) {
        return m.registerModule(new JavaTimeModule())
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
                .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
                .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true)
                .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
                .configure(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS, false);
    }

    /** The shared strict JSON mapper. */
    public static ObjectMapper mapper() {
        return JSON;
    }

    public static byte[] write(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public static String writeString(Object value) {
        return new String(write(value), StandardCharsets.UTF_8);
    }

    public static String writePretty(Object value) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Decodes a value strictly.
     *
     * @throws InvalidValueException with a one-line reason naming the field when the bytes are not a valid T
     */
    public static <T> T read(byte[] bytes, Class<T> type) {
        if (bytes.length > MAX_VALUE_BYTES) {
            throw new InvalidValueException("value is " + bytes.length + " bytes, over the limit of "
                    + MAX_VALUE_BYTES);
        }
        try {
            return JSON.readValue(bytes, type);
        } catch (IOException e) {
            throw new InvalidValueException(describe(e));
        }
    }

    public static <T> T read(String text, Class<T> type) {
        return read(text.getBytes(StandardCharsets.UTF_8), type);
    }

    public static JsonNode tree(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new InvalidValueException(describe(e));
        }
    }

    /** Reads one or more YAML documents (separated by {@code ---}) or a JSON value into trees. */
    public static List<JsonNode> readYamlDocuments(String text) {
        if (text.length() > 4 * MAX_VALUE_BYTES) {
            throw new InvalidValueException("file is over the limit of " + 4 * MAX_VALUE_BYTES + " bytes");
        }
        try (var parser = YAML.getFactory().createParser(text)) {
            List<JsonNode> docs = new ArrayList<>();
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && !n.isMissingNode() && !n.isNull() && !(n.isTextual() && n.asText().isBlank())) {
                    docs.add(n);
                }
            }
            return docs;
        } catch (IOException | RuntimeException e) {
            Throwable cause = e instanceof RuntimeException && e.getCause() instanceof IOException ? e.getCause() : e;
            throw new InvalidValueException(cause instanceof IOException io ? describe(io) : cause.getMessage());
        }
    }

    /** Converts a tree (from YAML or JSON) into a record with the same strictness as {@link #read}. */
    public static <T> T convert(JsonNode node, Class<T> type) {
        try {
            return JSON.treeToValue(node, type);
        } catch (IOException e) {
            throw new InvalidValueException(describe(e));
        }
    }

    public static <T> T convert(Object value, TypeReference<T> type) {
        return JSON.convertValue(value, type);
    }

    /** "unknown field 'foo' (at versions.1.0.extra)" rather than Jackson's multi-line essay. */
    static String describe(IOException e) {
        if (e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u) {
            return "unknown field '" + u.getPropertyName() + "'" + at(u);
        }
        if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m) {
            String target = m.getTargetType() == null ? "value" : m.getTargetType().getSimpleName();
            return "wrong type, expected " + target + at(m);
        }
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException p) {
            String msg = p.getOriginalMessage();
            var loc = p.getLocation();
            return "malformed JSON: " + firstLine(msg)
                    + (loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")");
        }
        return firstLine(e.getMessage());
    }

    private static String at(com.fasterxml.jackson.databind.JsonMappingException e) {
        String path = FieldPath.of(e.getPath());
        return path.isEmpty() ? "" : " (at " + path + ")";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable value";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Renders Jackson's reference path the way our validation messages name fields: {@code ports[1].port}. */
    static final class FieldPath {
        static String of(List<com.fasterxml.jackson.databind.JsonMappingException.Reference> refs) {
            StringBuilder sb = new StringBuilder();
            for (var r : refs) {
                if (r.getIndex() >= 0) {
                    sb.append('[').append(r.getIndex()).append(']');
                } else if (r.getFieldName() != null) {
                    if (!sb.isEmpty()) {
                        sb.append('.');
                    }
                    sb.append(r.getFieldName());
                }
            }
            return sb.toString();
        }
    }
}
