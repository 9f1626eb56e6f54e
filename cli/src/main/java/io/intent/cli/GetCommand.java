package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl get apps|hosts|status|assignments|leader [NAME]}. */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = {"List apps, hosts, status, assignments or the leader; with NAME, one app or host."})
final class GetCommand implements Callable<Integer> {
    @ParentCommand
    IntentCtl root;

    @Parameters(index = "0", paramLabel = "KIND", description = "apps, hosts, status, assignments or leader")
    String kind;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "one app or host")
    String name;

    @Override
    public Integer call() {
        ApiClient api = root.client();
        switch (kind) {
            case "apps", "app" -> apps(api);
            case "hosts", "host" -> hosts(api);
            case "status" -> StatusCommand.show(root, api, name);
            case "assignments", "assignment" -> assignments(api);
            case "leader" -> leader(api);
            default -> throw new CtlException(2, "unknown kind '" + kind
                    + "': use apps, hosts, status, assignments or leader");
        }
        return 0;
    }

    private void apps(ApiClient api) {
        JsonNode body = name == null ? api.get("/v1/apps").body() : api.get("/v1/apps/" + ApiClient.enc(name)).body();
        if (Output.structured(root.out(), root.output, body)) {
            return;
        }
        List<JsonNode> apps = new ArrayList<>();
        if (name == null) {
            body.path("apps").forEach(apps::add);
        } else {
            apps.add(body);
        }
        Output.Table t = new Output.Table("NAME", "ACTIVE", "VERSIONS", "SCALE", "REVISION");
        for (JsonNode a : apps) {
            JsonNode i = a.path("intent");
            if (a.hasNonNull("error")) {
                t.row(a.path("name").asText(), "INVALID: " + a.path("error").asText(), "", "", a.path("revision").asLong());
                continue;
            }
            List<String> versions = new ArrayList<>();
            i.path("versions").fieldNames().forEachRemaining(versions::add);
            versions.sort(null);
            t.row(a.path("name").asText(), i.path("active").asText(), String.join(",", versions),
                    i.path("scale").asInt(1), a.path("revision").asLong());
        }
        t.print(root.out());
    }

    private void hosts(ApiClient api) {
        JsonNode body = name == null ? api.get("/v1/hosts").body() : api.get("/v1/hosts/" + ApiClient.enc(name)).body();
        if (Output.structured(root.out(), root.output, body)) {
            return;
        }
        List<JsonNode> hosts = new ArrayList<>();
        if (name == null) {
            body.path("hosts").forEach(hosts::add);
        } else {
            hosts.add(body);
        }
        Output.Table t = new Output.Table("NAME", "LIVE", "DRAIN", "ADDRESS", "LABELS");
        for (JsonNode h : hosts) {
            JsonNode s = h.path("spec");
            StringBuilder labels = new StringBuilder();
            s.path("labels").fields().forEachRemaining(e -> labels.append(labels.isEmpty() ? "" : ",")
                    .append(e.getKey()).append('=').append(e.getValue().asText()));
            t.row(h.path("name").asText(), h.hasNonNull("live") ? "yes" : "no",
                    s.path("drain").asBoolean() ? "yes" : "no", s.path("address").asText("-"), labels);
        }
        t.print(root.out());
    }

    private void assignments(ApiClient api) {
        String q = name == null ? "" : "?host=" + ApiClient.enc(name);
        JsonNode body = api.getAllPages("/v1/assignments" + q, "assignments");
        if (Output.structured(root.out(), root.output, body)) {
            return;
        }
        Output.Table t = new Output.Table("HOST", "APP", "APP-REVISION", "ACTIVE");
        for (JsonNode a : body.path("assignments")) {
            JsonNode v = a.path("value");
            t.row(v.path("host").asText(), v.path("app").asText(), v.path("appRevision").asLong(),
                    v.path("intent").path("active").asText());
        }
        t.print(root.out());
    }

    private void leader(ApiClient api) {
        JsonNode body = api.get("/v1/leader").body();
        if (Output.structured(root.out(), root.output, body)) {
            return;
        }
        Output.Table t = new Output.Table("ELECTION", "LEADER", "SINCE-REVISION", "SEEN-SINCE", "CANDIDATES");
        for (JsonNode e : body.path("elections")) {
            JsonNode l = e.path("leader");
            t.row(e.path("name").asText(), l.path("id").asText(), l.path("createRevision").asLong(),
                    l.path("observedSince").asText(), e.path("candidates").size());
        }
        t.print(root.out());
        if (body.path("elections").isEmpty()) {
            root.out().println("no leader: no candidate holds the election");
            root.out().flush();
        }
    }
}
