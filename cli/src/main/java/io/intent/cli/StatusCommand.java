package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code intentctl status [APP] [--wait]}: desired vs observed, per app and host; waits for convergence. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show every app's state (OK, PENDING, PREPARING, VERSION_MISMATCH, FAILED) per host.",
            "With --wait, follow the API's events (/v1/events) and print each change until APP (or every app)",
            "has converged, then exit 0; exit 3 when --timeout passes first."})
final class StatusCommand extends CtlCommand {
    @Parameters(arity = "0..1", paramLabel = "APP", description = "one app (default: all)")
    String app;

    @Option(names = {"-w", "--wait"}, description = "wait until converged")
    boolean await;

    @Option(names = "--timeout", defaultValue = "5m", paramLabel = "DURATION", converter = Durations.class,
            description = "how long --wait waits (90s, 5m, 1h; a bare number is seconds). Default: ${DEFAULT-VALUE}")
    Duration timeout;

    @Option(names = "--interval", defaultValue = "30s", paramLabel = "DURATION", converter = Durations.class,
            description = "--wait also re-reads the status this often when no event arrives (a safety net; "
                    + "changes are followed through /v1/events). Default: ${DEFAULT-VALUE}")
    Duration interval;

    // Long: --wait's loop (subscribe, read, print the changes, stop on converged or timeout, re-subscribe) is
    // kept whole so its ordering (subscribe before reading) stays visible.
    @Override
    public Integer call() throws InterruptedException {
        ApiClient api = root.client();
        if (!await) {
            show(root, api, app);
            return 0;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> last = new LinkedHashMap<>();
        boolean first = true;
        boolean table = Output.tabular(root.output);
        while (true) {
            // subscribe first, then read: a change between the two is seen (twice) rather than missed
            try (EventFeed feed = api.events("")) {
                while (true) {
                    JsonNode body = fetch(api, app);
                    Map<String, String> now = lines(body);
                    if (first && table) {
                        table(root, body, root.output == Output.Format.wide);
                        first = false;
                    } else if (table) {
                        now.forEach((k, v) -> {
                            if (!v.equals(last.get(k))) {
                                root.out().println(LocalTime.now().format(Clock.FORMAT) + "  " + k + "  " + v);
                            }
                        });
                        root.out().flush();
                    }
                    last.clear();
                    last.putAll(now);
                    if (body.path("converged").asBoolean()) {
                        if (!Output.structured(root.out(), root.output == Output.Format.name ? Output.Format.table
                                : root.output, body)) {
                            root.say("converged" + (app == null ? "" : ": " + app));
                        }
                        return 0;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        Output.structured(root.out(), root.output == Output.Format.name ? Output.Format.table
                                : root.output, body);
                        root.err().println("timed out after " + Durations.format(timeout) + " before converging:");
                        last.forEach((k, v) -> {
                            if (!v.startsWith("OK")) {
                                root.err().println("  " + k + "  " + v);
                            }
                        });
                        root.err().flush();
                        return 3;
                    }
                    EventFeed.Event e = feed.next(Duration.ofNanos(Math.min(left, interval.toNanos())));
                    if (e != null) {
                        Thread.sleep(50); // one write touches several keys: read once per burst
                        feed.drain();
                    }
                }
            } catch (EventFeed.Ended ended) {
                Thread.sleep(500); // the API restarted or the connection dropped: subscribe again, re-read
            }
        }
    }

    /** Built when --wait prints its first change: {@code get status} reuses this class's table, not the clock. */
    private static final class Clock {
        static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("HH:mm:ss");
    }

    static JsonNode fetch(ApiClient api, String app) {
        return app == null ? api.getAllPages("/v1/status", "apps", "hosts")
                : api.get("/v1/status/apps/" + ApiClient.enc(app)).body();
    }

    static void show(IntentCtl root, ApiClient api, String app) {
        JsonNode body = fetch(api, app);
        if (root.output == Output.Format.name) {
            listing(body, false).rows().keySet().stream().filter(n -> !n.contains(" ")).forEach(root.out()::println);
            root.out().flush();
        } else if (!Output.structured(root.out(), root.output, body)) {
            table(root, body, root.output == Output.Format.wide);
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
        return List.of(body);
    }

    /** The status table's rows: "app/web" for an app, "app/web h1" for each of its hosts. */
    static GetCommand.Listing listing(JsonNode body, boolean wide) {
        String[] header = wide ? new String[] {"APP", "HOST", "STATE", "READY", "ACTIVE", "RUNNING", "MESSAGE",
            "AGENTS"} : new String[] {"APP", "HOST", "STATE", "READY", "ACTIVE", "RUNNING", "MESSAGE"};
        Map<String, Object[]> rows = new LinkedHashMap<>();
        for (JsonNode a : apps(body)) {
            String name = a.path("app").asText();
            rows.put("app/" + name, new Object[] {name, "", a.path("state").asText(),
                a.path("ready").asInt() + "/" + a.path("wanted").asInt(), a.path("active").asText("-"), "",
                a.path("message").asText(""), ""});
            for (JsonNode h : a.path("hosts")) {
                String msg = h.path("message").asText("");
                if (h.path("progress").hasNonNull("percent")) {
                    msg += " (" + h.path("progress").path("percent").asInt() + "%)";
                }
                StringBuilder agents = new StringBuilder();
                h.path("agents").forEach(x -> agents.append(agents.isEmpty() ? "" : ",")
                        .append(x.path("agent").asText()).append('=').append(x.path("state").asText()));
                rows.put("app/" + name + " " + h.path("host").asText(), new Object[] {"",
                    h.path("host").asText() + (h.path("placed").asBoolean(true) ? "" : " (leaving)"),
                    h.path("state").asText(), "", "", h.path("version").asText("-"), msg,
                    agents.isEmpty() ? "-" : agents.toString()});
            }
        }
        return new GetCommand.Listing(body, header, rows);
    }

    static void table(IntentCtl root, JsonNode body, boolean wide) {
        if (body.hasNonNull("disruption")) {
            root.out().println("DISRUPTION: " + body.path("disruption").asText());
        }
        var l = listing(body, wide);
        Output.Table t = new Output.Table(l.header());
        l.rows().values().forEach(t::row);
        t.print(root.out());
    }
}
