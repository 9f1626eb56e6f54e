package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The tables of {@code intentctl get apps|hosts|assignments|leader}: one API read turned into rows. */
final class KindTables {
    private final ApiClient api;
    private final String name;
    private final boolean watch;
    private final boolean wide;

    /** {@code name}: one app or host, or null for all; {@code watch}: a vanished one is no error. */
    KindTables(ApiClient api, String name, boolean watch, boolean wide) {
        this.api = api;
        this.name = name;
        this.watch = watch;
        this.wide = wide;
    }

    GetCommand.Listing read(String kind) {
        return switch (kind) {
            case "apps" -> apps();
            case "hosts" -> hosts();
            case "assignments" -> assignments();
            default -> leader();
        };
    }

    /** The entries of a list answer (field {@code field}), or the one entry of a single answer. */
    private List<JsonNode> entries(JsonNode body, String field) {
        List<JsonNode> entries = new ArrayList<>();
        if (body.isEmpty()) {
            // a watched app or host that was deleted: no rows
        } else if (name == null) {
            body.path(field).forEach(entries::add);
        } else {
            entries.add(body);
        }
        return entries;
    }

    private GetCommand.Listing apps() {
        JsonNode body = name == null ? api.get("/v1/apps").body() : one("/v1/apps/" + ApiClient.enc(name));
        List<JsonNode> apps = entries(body, "apps");
        String[] header = wide ? new String[] {"NAME", "ACTIVE", "VERSIONS", "SCALE", "REVISION", "RUNTIME", "PORTS",
            "HEALTH"} : new String[] {"NAME", "ACTIVE", "VERSIONS", "SCALE", "REVISION"};
        Map<String, Object[]> rows = new LinkedHashMap<>();
        for (JsonNode a : apps) {
            JsonNode i = a.path("intent");
            String n = a.path("name").asText();
            if (a.hasNonNull("error")) {
                rows.put("app/" + n, row(n, "INVALID: " + a.path("error").asText(), "", "",
                        a.path("revision").asLong(), "", "", ""));
                continue;
            }
            List<String> versions = new ArrayList<>();
            i.path("versions").fieldNames().forEachRemaining(versions::add);
            versions.sort(null);
            List<String> ports = new ArrayList<>();
            i.path("ports").forEach(p -> ports.add(p.path("name").asText() + ":" + p.path("port").asInt() + "/"
                    + p.path("protocol").asText("tcp")));
            JsonNode h = i.path("health");
            String health = h.hasNonNull("http") ? "http " + h.path("http").asText()
                    : h.hasNonNull("tcp") ? "tcp" : h.hasNonNull("command") ? "command" : "-";
            rows.put("app/" + n, row(n, i.path("active").asText(), String.join(",", versions),
                    i.path("scale").asInt(1), a.path("revision").asLong(), i.path("runtime").asText("process"),
                    ports.isEmpty() ? "-" : String.join(",", ports), health));
        }
        return new GetCommand.Listing(body, header, rows);
    }

    private GetCommand.Listing hosts() {
        JsonNode body = name == null ? api.get("/v1/hosts").body() : one("/v1/hosts/" + ApiClient.enc(name));
        List<JsonNode> hosts = entries(body, "hosts");
        String[] header = wide ? new String[] {"NAME", "LIVE", "DRAIN", "ADDRESS", "LABELS", "CAPACITY", "AGENT",
            "LIVE-SINCE"} : new String[] {"NAME", "LIVE", "DRAIN", "ADDRESS", "LABELS"};
        Map<String, Object[]> rows = new LinkedHashMap<>();
        for (JsonNode h : hosts) {
            JsonNode s = h.path("spec");
            StringBuilder labels = new StringBuilder();
            s.path("labels").fields().forEachRemaining(e -> labels.append(labels.isEmpty() ? "" : ",")
                    .append(e.getKey()).append('=').append(e.getValue().asText()));
            StringBuilder cap = new StringBuilder();
            s.path("capacity").fields().forEachRemaining(e -> cap.append(cap.isEmpty() ? "" : ",")
                    .append(e.getKey()).append('=').append(e.getValue().asText()));
            JsonNode live = h.path("live");
            rows.put("host/" + h.path("name").asText(), row(h.path("name").asText(),
                    h.hasNonNull("live") ? "yes" : "no", s.path("drain").asBoolean() ? "yes" : "no",
                    s.path("address").asText("-"), labels.isEmpty() ? "-" : labels.toString(),
                    cap.isEmpty() ? "-" : cap.toString(),
                    live.hasNonNull("agent") ? live.path("agent").asText() + " pid " + live.path("pid").asLong() : "-",
                    live.path("since").asText("-")));
        }
        return new GetCommand.Listing(body, header, rows);
    }

    private GetCommand.Listing assignments() {
        String q = name == null ? "" : "?host=" + ApiClient.enc(name);
        JsonNode body = api.getAllPages("/v1/assignments" + q, "assignments");
        String[] header = wide ? new String[] {"HOST", "APP", "APP-REVISION", "ACTIVE", "VERSIONS", "REVISION"}
                : new String[] {"HOST", "APP", "APP-REVISION", "ACTIVE"};
        Map<String, Object[]> rows = new LinkedHashMap<>();
        for (JsonNode a : body.path("assignments")) {
            JsonNode v = a.path("value");
            List<String> versions = new ArrayList<>();
            v.path("intent").path("versions").fieldNames().forEachRemaining(versions::add);
            versions.sort(null);
            rows.put("assignment/" + v.path("host").asText() + "/" + v.path("app").asText(), row(
                    v.path("host").asText(), v.path("app").asText(), v.path("appRevision").asLong(),
                    v.path("intent").path("active").asText(), String.join(",", versions),
                    a.path("revision").asLong()));
        }
        return new GetCommand.Listing(body, header, rows);
    }

    private GetCommand.Listing leader() {
        JsonNode body = api.get("/v1/leader").body();
        String[] header = {"ELECTION", "LEADER", "SINCE-REVISION", "SEEN-SINCE", "CANDIDATES"};
        Map<String, Object[]> rows = new LinkedHashMap<>();
        for (JsonNode e : body.path("elections")) {
            JsonNode l = e.path("leader");
            rows.put("leader/" + e.path("name").asText(), new Object[] {e.path("name").asText(),
                l.path("id").asText(), l.path("createRevision").asLong(), l.path("observedSince").asText("-"),
                e.path("candidates").size()});
        }
        return new GetCommand.Listing(body, header, rows);
    }

    /** One app or host; while watching, one that is gone (404) is an empty object, so the watch goes on. */
    private JsonNode one(String path) {
        if (!watch) {
            return api.get(path).body();
        }
        ApiClient.Response r = api.find(path);
        return r == null ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode() : r.body();
    }

    private static Object[] row(Object... cells) {
        return cells;
    }
}
