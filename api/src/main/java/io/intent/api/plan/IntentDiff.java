package io.intent.api.plan;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/** The field-by-field difference between two values, as JSON paths ({@code versions.2.0.sha256}); pure. */
public final class IntentDiff {
    /** One changed leaf or subtree: {@code from} null when added, {@code to} null when removed. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Change(String path, JsonNode from, JsonNode to) {
    }

    private IntentDiff() {
    }

    /** Changes from {@code before} to {@code after}; either may be null (everything added or removed). */
    public static List<Change> of(Object before, Object after) {
        JsonNode a = before == null ? null : Json.mapper().valueToTree(before);
        JsonNode b = after == null ? null : Json.mapper().valueToTree(after);
        List<Change> out = new ArrayList<>();
        diff("", a, b, out);
        return out;
    }

    private static void diff(String path, JsonNode a, JsonNode b, List<Change> out) {
        boolean aMissing = a == null || a.isNull() || a.isMissingNode();
        boolean bMissing = b == null || b.isNull() || b.isMissingNode();
        if (aMissing && bMissing) {
            return;
        }
        if (!aMissing && !bMissing && a.isObject() && b.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                diff(path.isEmpty() ? n : path + "." + n, a.get(n), b.get(n), out);
            }
            return;
        }
        if (!aMissing && !bMissing && a.equals(b)) {
            return;
        }
        if (!aMissing && !bMissing && a.isArray() && b.isArray() && a.size() == b.size()) {
            Iterator<JsonNode> ia = a.elements();
            Iterator<JsonNode> ib = b.elements();
            int i = 0;
            while (ia.hasNext()) {
                diff(path + "[" + i++ + "]", ia.next(), ib.next(), out);
            }
            return;
        }
        out.add(new Change(path.isEmpty() ? "." : path, aMissing ? null : a, bMissing ? null : b));
    }
}
