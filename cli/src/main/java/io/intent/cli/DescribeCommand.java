package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code intentctl describe app NAME}: the intent, its status per host and agent, and its recent history. */
@Command(name = "describe", mixinStandardHelpOptions = true,
        description = "Everything about one app: intent, ETag, status per host and agent, recent active versions.")
final class DescribeCommand extends CtlCommand {
    @Mixin
    AppArgument app;

    @Override
    public Integer call() {
        String name = app.app("describe");
        ApiClient api = root.client();
        String n = ApiClient.enc(name);
        var intent = api.get("/v1/apps/" + n);
        JsonNode status = api.get("/v1/status/apps/" + n).body();
        JsonNode history = api.get("/v1/apps/" + n + "/history?max=10").body();
        if (Output.structured(root.out(), root.output, Map.of("app", intent.body(), "status", status,
                "history", history))) {
            return 0;
        }
        PrintWriter out = root.out();
        printIntent(out, name, intent);
        printStatus(out, status);
        printHistory(out, history);
        out.flush();
        return 0;
    }

    private static void printIntent(PrintWriter out, String name, ApiClient.Response app) {
        JsonNode i = app.body().path("intent");
        out.println("Name:       " + name);
        out.println("ETag:       " + app.etag());
        if (app.body().hasNonNull("error")) {
            out.println("Invalid:    " + app.body().path("error").asText());
        }
        out.println("Active:     " + i.path("active").asText("-"));
        out.println("Scale:      " + i.path("scale").asInt(1));
        out.println("Runtime:    " + i.path("runtime").asText("process"));
        out.println("Versions:");
        i.path("versions").fields().forEachRemaining(v -> out.println("  " + v.getKey() + "  "
                + v.getValue().path("artifact").asText(v.getValue().path("image").asText(""))));
        if (i.path("ports").size() > 0) {
            out.println("Ports:");
            i.path("ports").forEach(p -> out.println("  " + p.path("name").asText() + "  " + p.path("port").asInt()
                    + "/" + p.path("protocol").asText("tcp")));
        }
    }

    private static void printStatus(PrintWriter out, JsonNode status) {
        out.println("State:      " + status.path("state").asText() + " (" + status.path("ready").asInt() + "/"
                + status.path("wanted").asInt() + " ready" + (status.path("converged").asBoolean() ? ", converged" : "")
                + ")");
        if (status.hasNonNull("message")) {
            out.println("Message:    " + status.path("message").asText());
        }
        if (status.hasNonNull("pendingReason")) {
            out.println("Pending:    " + status.path("pendingReason").asText());
        }
        out.println("Hosts:");
        for (JsonNode h : status.path("hosts")) {
            out.println("  " + h.path("host").asText() + "  " + h.path("state").asText() + "  running "
                    + h.path("version").asText("-") + (h.hasNonNull("message") ? "  " + h.path("message").asText() : ""));
            for (JsonNode a : h.path("agents")) {
                out.println("    " + a.path("agent").asText() + ": " + a.path("state").asText()
                        + (a.hasNonNull("phase") ? " (" + a.path("phase").asText() + ")" : "")
                        + (a.hasNonNull("message") ? " " + a.path("message").asText() : ""));
                String instance = "setlive".equals(a.path("agent").asText()) ? InstanceLine.of(a.path("details"))
                        : null;
                if (instance != null) {
                    out.println("      instance: " + instance);
                }
            }
        }
    }

    private static void printHistory(PrintWriter out, JsonNode history) {
        out.println("History (newest first):");
        for (JsonNode h : history.path("history")) {
            out.println("  revision " + h.path("revision").asLong() + "  active " + h.path("active").asText()
                    + "  scale " + h.path("scale").asInt());
        }
        if (!history.path("complete").asBoolean()) {
            out.println("  (older history compacted or not shown)");
        }
    }
}
