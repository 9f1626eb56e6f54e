package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code intentctl get apps|hosts|status|assignments|leader|endpoints [NAME] [-o wide|name|json|yaml] [--watch]}. */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = {"List apps, hosts, status, assignments or the leader; with NAME, one app or host.",
            "-o yaml/json of apps and hosts is accepted back by `apply -f` (get, edit, apply).",
            "--watch prints the table, then the rows that change as the API's events arrive (/v1/events);",
            "with -o json or yaml it prints each change event, one per line (json) or document (yaml)."})
final class GetCommand extends CtlCommand {
    /** The kinds, for the help text and shell completion. */
    static final class Kinds implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("apps", "hosts", "status", "assignments", "leader", "endpoints").iterator();
        }
    }

    /** What one read shows: the API's answer, the header, and one row per name. */
    record Listing(JsonNode body, String[] header, Map<String, Object[]> rows) {
        Listing {
            // rows are built with every column; a narrow table keeps the first ones
            Map<String, Object[]> trimmed = new LinkedHashMap<>();
            rows.forEach((n, r) -> trimmed.put(n, Arrays.copyOf(r, header.length)));
            rows = trimmed;
        }
    }

    @Parameters(index = "0", paramLabel = "KIND", completionCandidates = Kinds.class,
            description = "apps, hosts, status, assignments, leader or endpoints")
    String kind;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "one app or host")
    String name;

    @Option(names = {"-w", "--watch"}, description = "after listing, follow the changes")
    boolean watch;

    @Option(names = "--watch-timeout", paramLabel = "DURATION", converter = Durations.class,
            description = "stop watching after DURATION (exit 0). Default: never")
    Duration watchTimeout;

    @Override
    public Integer call() throws InterruptedException {
        if (kind.equals("endpoints") || kind.equals("endpoint")) {
            // endpoints have a view of their own: live, healthy instances only (--watch prints them as they change)
            EndpointsView.show(root, root.client(), name, watch);
            return 0;
        }
        String k = canonical(kind);
        ApiClient api = root.client();
        if (!watch) {
            Listing l = read(api, k);
            print(l, true);
            return 0;
        }
        return watch(api, k);
    }

    static String canonical(String kind) {
        return switch (kind) {
            case "apps", "app" -> "apps";
            case "hosts", "host" -> "hosts";
            case "status" -> "status";
            case "assignments", "assignment" -> "assignments";
            case "leader" -> "leader";
            default -> throw new CtlException(2, "unknown kind '" + kind
                    + "': use apps, hosts, status, assignments, leader or endpoints");
        };
    }

    private void print(Listing l, boolean header) {
        if (Output.structured(root.out(), root.output == Output.Format.name ? Output.Format.table : root.output,
                l.body())) {
            return;
        }
        if (root.output == Output.Format.name) {
            // status also has a row per host of an app ("app/web h1"): names are the apps
            l.rows().keySet().stream().filter(n -> !n.contains(" ")).forEach(root.out()::println);
            root.out().flush();
            return;
        }
        if (header && l.body().hasNonNull("disruption")) {
            root.out().println("DISRUPTION: " + l.body().path("disruption").asText());
        }
        Output.Table t = new Output.Table(l.header());
        l.rows().values().forEach(t::row);
        t.print(root.out(), header);
        if (header && kind.equals("leader") && l.rows().isEmpty()) {
            root.say("no leader: no candidate holds the election");
        }
    }

    /** Lists, then re-reads and prints the changed rows on every burst of events, until the timeout. */
    private int watch(ApiClient api, String k) throws InterruptedException {
        long deadline = watchTimeout == null ? Long.MAX_VALUE : System.nanoTime() + watchTimeout.toNanos();
        boolean structured = root.output == Output.Format.json || root.output == Output.Format.yaml;
        Map<String, Object[]> last = null;
        String[] header = null;
        while (true) {
            // subscribe first, then read: a change between the two is seen twice rather than never
            try (EventFeed feed = api.events(prefix(k))) {
                Listing l = read(api, k);
                if (last == null) {
                    print(l, true);
                } else if (!structured) {
                    printChanges(last, l);
                }
                last = l.rows();
                header = l.header();
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return 0;
                    }
                    EventFeed.Event e = feed.next(Duration.ofNanos(Math.min(left, Duration.ofSeconds(60).toNanos())));
                    if (e == null) {
                        continue;
                    }
                    if (structured) {
                        if (root.output == Output.Format.json) {
                            root.out().println(io.intent.store.codec.Json.writeString(e.data()));
                        } else {
                            root.out().print("---\n" + Output.yaml(e.data()));
                        }
                        root.out().flush();
                        continue;
                    }
                    Thread.sleep(50); // let a burst (one write touches several keys) arrive, then read once
                    feed.drain();
                    Listing now = read(api, k);
                    printChanges(last, now);
                    last = now.rows();
                }
            } catch (EventFeed.Ended ended) {
                root.err().println("(event stream ended; reconnecting)");
                root.err().flush();
                Thread.sleep(1000);
            }
            if (header == null) {
                return 1;
            }
        }
    }

    private void printChanges(Map<String, Object[]> before, Listing now) {
        Output.Table t = new Output.Table(now.header());
        List<String> names = new ArrayList<>();
        now.rows().forEach((n, row) -> {
            if (!Arrays.equals(row, before.get(n))) {
                t.row(row);
                names.add(n);
            }
        });
        List<String> gone = new ArrayList<>();
        before.keySet().forEach(n -> {
            if (!now.rows().containsKey(n)) {
                gone.add(n);
            }
        });
        if (root.output == Output.Format.name) {
            names.stream().filter(n -> !n.contains(" ")).forEach(root.out()::println);
        } else if (!names.isEmpty()) {
            t.print(root.out(), false);
        }
        gone.forEach(n -> root.say(n + " deleted"));
    }

    /** The /v1/events prefix whose keys can change what {@code kind} shows. */
    private String prefix(String k) {
        return switch (k) {
            case "apps" -> name == null ? "apps/" : "apps/" + name;
            case "hosts" -> ""; // hosts/ and live/
            case "assignments" -> name == null ? "assign/" : "assign/" + name + "/";
            case "leader" -> "leader/";
            default -> ""; // status is a function of every prefix
        };
    }

    Listing read(ApiClient api, String k) {
        boolean wide = root.output == Output.Format.wide;
        if (k.equals("status")) {
            return StatusCommand.listing(StatusCommand.fetch(api, name), wide);
        }
        return new KindTables(api, name, watch, wide).read(k);
    }
}
