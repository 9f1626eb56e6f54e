package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl status [APP] [--wait]}: desired vs observed, per app and host; waits for convergence. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show every app's state (OK, PENDING, PREPARING, VERSION_MISMATCH, FAILED) per host.",
            "With --wait, print each change until APP (or every app) has converged, then exit 0;",
            "exit 3 when --timeout passes first."})
final class StatusCommand implements Callable<Integer> {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @ParentCommand
    IntentCtl root;

    @Parameters(arity = "0..1", paramLabel = "APP", description = "one app (default: all)")
    String app;

    @Option(names = {"-w", "--wait"}, description = "wait until converged")
    boolean await;

    @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "how long --wait waits. Default: ${DEFAULT-VALUE}")
    long timeoutSeconds;

    @Option(names = "--interval", defaultValue = "1000", paramLabel = "MS",
            description = "how often --wait polls. Default: ${DEFAULT-VALUE}")
    long intervalMs;

    @Override
    public Integer call() throws InterruptedException {
        ApiClient api = root.client();
        if (!await) {
            show(root, api, app);
            return 0;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        Map<String, String> last = new LinkedHashMap<>();
        JsonNode body = null;
        boolean first = true;
        while (true) {
            body = fetch(api, app);
            Map<String, String> now = lines(body);
            if (first && root.output == Output.Format.table) {
                table(root, body);
                first = false;
            } else if (root.output == Output.Format.table) {
                now.forEach((k, v) -> {
                    if (!v.equals(last.get(k))) {
                        root.out().println(LocalTime.now().format(CLOCK) + "  " + k + "  " + v);
                    }
                });
                root.out().flush();
            }
            last.clear();
            last.putAll(now);
            if (body.path("converged").asBoolean()) {
                if (!Output.structured(root.out(), root.output, body)) {
                    root.out().println("converged" + (app == null ? "" : ": " + app));
                    root.out().flush();
                }
                return 0;
            }
            if (System.nanoTime() > deadline) {
                Output.structured(root.out(), root.output, body);
                root.err().println("timed out after " + timeoutSeconds + " s before converging:");
                last.forEach((k, v) -> {
                    if (!v.startsWith("OK")) {
                        root.err().println("  " + k + "  " + v);
                    }
                });
                root.err().flush();
                return 3;
            }
            Thread.sleep(intervalMs);
        }
    }

    static JsonNode fetch(ApiClient api, String app) {
        return app == null ? api.getAllPages("/v1/status", "apps", "hosts")
                : api.get("/v1/status/apps/" + ApiClient.enc(app)).body();
    }

    static void show(IntentCtl root, ApiClient api, String app) {
        JsonNode body = fetch(api, app);
        if (!Output.structured(root.out(), root.output, body)) {
            table(root, body);
        }
    }

    /** One line per app and per host of it: "web/h1" -> "PREPARING 1.0 preparer: fetching". */
    static Map<String, String> lines(JsonNode body) {
        Map<String, String> m = new LinkedHashMap<>();
        for (JsonNode a : apps(body)) {
            String name = a.path("app").asText();
            m.put(name, a.path("state").asText() + " " + a.path("ready").asInt() + "/" + a.path("wanted").asInt()
                    + (a.hasNonNull("message") ? " " + a.path("message").asText() : ""));
            for (JsonNode h : a.path("hosts")) {
                m.put(name + "/" + h.path("host").asText(), hostLine(h));
            }
        }
        return m;
    }

    private static String hostLine(JsonNode h) {
        StringBuilder sb = new StringBuilder(h.path("state").asText());
        sb.append(' ').append(h.path("version").asText("-"));
        if (!h.path("placed").asBoolean(true)) {
            sb.append(" (leaving)");
        }
        if (h.hasNonNull("message")) {
            sb.append(' ').append(h.path("message").asText());
        }
        if (h.path("progress").hasNonNull("percent")) {
            sb.append(" (").append(h.path("progress").path("percent").asInt()).append("%)");
        }
        return sb.toString();
    }

    private static Iterable<JsonNode> apps(JsonNode body) {
        if (body.has("apps")) {
            return body.path("apps");
        }
        return java.util.List.of(body);
    }

    static void table(IntentCtl root, JsonNode body) {
        if (body.hasNonNull("disruption")) {
            root.out().println("DISRUPTION: " + body.path("disruption").asText());
        }
        Output.Table t = new Output.Table("APP", "HOST", "STATE", "READY", "ACTIVE", "RUNNING", "MESSAGE");
        for (JsonNode a : apps(body)) {
            t.row(a.path("app").asText(), "", a.path("state").asText(),
                    a.path("ready").asInt() + "/" + a.path("wanted").asInt(), a.path("active").asText("-"), "",
                    a.path("message").asText(""));
            for (JsonNode h : a.path("hosts")) {
                String msg = h.path("message").asText("");
                if (h.path("progress").hasNonNull("percent")) {
                    msg += " (" + h.path("progress").path("percent").asInt() + "%)";
                }
                t.row("", h.path("host").asText() + (h.path("placed").asBoolean(true) ? "" : " (leaving)"),
                        h.path("state").asText(), "", "", h.path("version").asText("-"), msg);
            }
        }
        t.print(root.out());
    }
}
