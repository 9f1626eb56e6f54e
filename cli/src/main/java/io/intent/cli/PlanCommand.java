package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code intentctl plan -f FILE}: the intent diff and placement preview, writing nothing. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Show what `apply -f FILE` would change, without writing: per app the field-by-field diff",
            "against the stored intent, every validation error, and where the dispatcher's planner would place it",
            "on the current hosts. Exit code 1 when an app is invalid.", "",
            "FILE: YAML documents (---) each `name: <app>` plus intent fields, or `apps: {<name>: <intent>}`;",
            "JSON works the same. Hosts: `kind: host`, `name: <host>` plus spec fields, or `hosts: {...}`."})
final class PlanCommand extends CtlCommand {
    @Mixin
    FileOption file;

    @Override
    public Integer call() {
        Manifest m = file.read();
        if (m.apps().isEmpty()) {
            root.out().println("the file holds hosts only; plan previews apps");
            return 0;
        }
        JsonNode plan = root.client().post("/v1/plan", Map.of("apps", m.apps())).body();
        if (!Output.structured(root.out(), root.output, plan)) {
            print(root.out(), plan);
            if (!m.hosts().isEmpty()) {
                root.out().println("hosts in the file (" + String.join(", ", m.hosts().keySet())
                        + ") are not part of the preview");
            }
        }
        root.out().flush();
        return plan.path("valid").asBoolean() ? 0 : 1;
    }

    static void print(PrintWriter out, JsonNode plan) {
        for (JsonNode a : plan.path("apps")) {
            String action = a.path("action").asText();
            String mark = switch (action) {
                case "create" -> "+";
                case "update" -> "~";
                case "invalid" -> "!";
                default -> "=";
            };
            out.println(mark + " app " + a.path("name").asText() + ": " + action);
            for (JsonNode c : a.path("changes")) {
                String path = c.path("path").asText();
                if (path.equals(".")) {
                    out.println("    (new app)");
                } else {
                    out.println("    " + path + ": " + text(c.get("from")) + " -> " + text(c.get("to")));
                }
            }
            for (JsonNode e : a.path("errors")) {
                out.println("    error " + e.path("field").asText() + ": " + e.path("reason").asText());
            }
            JsonNode p = a.get("placement");
            if (p != null) {
                int n = p.path("hosts").size();
                out.println("    would be placed on " + n + " of " + p.path("wanted").asInt() + " host(s): "
                        + join(p.path("hosts")) + " (now: " + join(p.path("current")) + ")");
                if (p.hasNonNull("pending")) {
                    out.println("    pending: " + p.path("pending").asText());
                }
            }
        }
        out.println(plan.path("changed").asInt() + " app(s) would change. Note: " + plan.path("note").asText());
        out.flush();
    }

    static void printInvalid(PrintWriter err, JsonNode plan) {
        for (JsonNode a : plan.path("apps")) {
            if (a.path("action").asText().equals("invalid")) {
                err.println("app " + a.path("name").asText() + " is invalid:");
                for (JsonNode e : a.path("errors")) {
                    err.println("  " + e.path("field").asText() + ": " + e.path("reason").asText());
                }
            }
        }
        err.flush();
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "(none)" : n.isTextual() ? n.asText() : n.toString();
    }

    private static String join(JsonNode arr) {
        if (arr == null || arr.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        arr.forEach(x -> sb.append(sb.isEmpty() ? "" : ", ").append(x.asText()));
        return sb.toString();
    }
}
