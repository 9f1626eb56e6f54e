package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The apps (and hosts) of an {@code apply}/{@code plan} file: YAML (several documents separated by {@code ---}) or
 * JSON. Each document is one of
 * <ul>
 *   <li>an app: {@code name: web} plus the AppIntent fields ({@code versions}, {@code active}, ...);</li>
 *   <li>a host: {@code kind: host}, {@code name: h1} plus the HostSpec fields ({@code labels}, {@code drain}, ...);</li>
 *   <li>maps by name: {@code apps: {web: <intent>, ...}} and/or {@code hosts: {h1: <spec>, ...}};</li>
 *   <li>a list of app documents (JSON arrays);</li>
 *   <li>what {@code intentctl get apps|hosts [NAME] -o yaml|json} prints: {@code name}, {@code intent} (or
 *       {@code spec}) and the read-only {@code revision}, {@code error}, {@code raw}, {@code live}; a list as
 *       {@code apps: [...]} or {@code hosts: [...]} with the list's {@code revision}. So get, edit, apply works.</li>
 * </ul>
 * Decoding is as strict as the API's: an unknown field is an error naming the document and the field.
 */
public record Manifest(Map<String, AppIntent> apps, Map<String, HostSpec> hosts) {

    /** Parses one file's text; throws a CLI error naming the document and field when it is malformed. */
    public static Manifest parse(String text) {
        Map<String, AppIntent> apps = new TreeMap<>();
        Map<String, HostSpec> hosts = new TreeMap<>();
        List<JsonNode> docs;
        try {
            docs = Json.readYamlDocuments(text);
        } catch (InvalidValueException e) {
            throw new CtlException(1, "cannot read the file: " + e.getMessage());
        }
        int n = 0;
        for (JsonNode doc : docs) {
            n++;
            if (doc.isArray()) {
                int i = 0;
                for (JsonNode item : doc) {
                    named(item, "document " + n + " item " + (++i), "app", apps, hosts);
                }
            } else if (doc.isObject() && doc.has("name")) {
                named(doc, "document " + n, "app", apps, hosts);
            } else if (doc.isObject() && (doc.has("apps") || doc.has("hosts"))) {
                collection(doc, "document " + n, apps, hosts);
            } else {
                throw new CtlException(1, "document " + n + ": expected {name: <app>, <intent fields>}, "
                        + "{kind: host, name: <host>, ...} or {apps: {<name>: <intent>}}");
            }
        }
        if (apps.isEmpty() && hosts.isEmpty()) {
            throw new CtlException(1, "the file holds no apps or hosts");
        }
        return new Manifest(apps, hosts);
    }

    /** A document of the form {@code {apps: {...} or [...], hosts: {...} or [...]}}. */
    private static void collection(JsonNode doc, String where, Map<String, AppIntent> apps,
                                   Map<String, HostSpec> hosts) {
        var names = doc.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!f.equals("apps") && !f.equals("hosts") && !f.equals("revision")) {
                throw new CtlException(1, where + ": unknown field '" + f + "' (expected apps, hosts)");
            }
        }
        if (doc.path("apps").isArray()) {
            int i = 0;
            for (JsonNode item : doc.path("apps")) {
                named(item, where + " apps[" + (i++) + "]", "app", apps, hosts);
            }
        } else {
            doc.path("apps").fields().forEachRemaining(e -> add(apps, e.getKey(),
                    decode(e.getValue(), AppIntent.class, where + " app " + e.getKey()), "app"));
        }
        if (doc.path("hosts").isArray()) {
            int i = 0;
            for (JsonNode item : doc.path("hosts")) {
                named(item, where + " hosts[" + (i++) + "]", "host", apps, hosts);
            }
        } else {
            doc.path("hosts").fields().forEachRemaining(e -> add(hosts, e.getKey(),
                    decode(e.getValue(), HostSpec.class, where + " host " + e.getKey()), "host"));
        }
    }

    private static void named(JsonNode doc, String where, String defaultKind, Map<String, AppIntent> apps,
                              Map<String, HostSpec> hosts) {
        if (!doc.isObject() || !doc.path("name").isTextual()) {
            throw new CtlException(1, where + ": needs a name");
        }
        ObjectNode rest = ((ObjectNode) doc).deepCopy();
        String name = rest.remove("name").asText();
        JsonNode kind = rest.remove("kind");
        String k = kind == null ? rest.has("spec") ? "host" : defaultKind : kind.asText();
        if (rest.has("intent") || rest.has("spec")) {
            rest = fromGet(rest, k, where + " (" + k + " " + name + ")");
        }
        switch (k) {
            case "app" -> add(apps, name, decode(rest, AppIntent.class, where + " (app " + name + ")"), "app");
            case "host" -> add(hosts, name, decode(rest, HostSpec.class, where + " (host " + name + ")"), "host");
            default -> throw new CtlException(1, where + ": kind '" + k + "' is not app or host");
        }
    }

    /**
     * The value inside what {@code get -o yaml|json} printed ({@code intent} or {@code spec}); the read-only fields
     * beside it are dropped, and nothing else may be there.
     */
    private static ObjectNode fromGet(ObjectNode doc, String kind, String where) {
        String field = kind.equals("host") ? "spec" : "intent";
        var names = doc.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            boolean known = f.equals(field) || f.equals("revision") || f.equals("error") || f.equals("raw")
                    || kind.equals("host") && f.equals("live");
            if (!known) {
                throw new CtlException(1, where + ": unknown field '" + f + "' beside " + field
                        + " (a get -o yaml document holds name, " + field + ", revision, error, raw"
                        + (kind.equals("host") ? ", live" : "") + ")");
            }
        }
        if (doc.hasNonNull("error") || !doc.path(field).isObject()) {
            throw new CtlException(1, where + ": the stored value is invalid (" + doc.path("error").asText("no "
                    + field) + "); write the " + kind + " whole, without error and raw");
        }
        return (ObjectNode) doc.get(field);
    }

    private static <T> T decode(JsonNode node, Class<T> type, String where) {
        try {
            T v = Json.convert(node, type);
            if (v == null) {
                throw new CtlException(1, where + ": empty");
            }
            return v;
        } catch (InvalidValueException e) {
            throw new CtlException(1, where + ": " + e.getMessage());
        }
    }

    private static <T> void add(Map<String, T> m, String name, T value, String what) {
        if (m.put(name, value) != null) {
            throw new CtlException(1, what + " " + name + " appears twice in the file");
        }
    }
}
