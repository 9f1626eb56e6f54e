package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code intentctl get endpoints APP [--watch]}: the app's live, healthy instances from
 * {@code GET /v1/endpoints/APP}; with {@code --watch}, asks again every second and prints the table again
 * whenever the set of endpoints changes, until interrupted.
 */
final class EndpointsView {
    private EndpointsView() {
    }

    static void show(IntentCtl root, ApiClient api, String app, boolean watch) {
        if (app == null) {
            throw new CtlException(2, "get endpoints needs an app name: intentctl get endpoints APP");
        }
        String last = null;
        while (true) {
            JsonNode body = api.get("/v1/endpoints/" + ApiClient.enc(app)).body();
            String now = body.path("endpoints").toString();
            if (!now.equals(last)) {
                if (!Output.structured(root.out(), root.output, body)) {
                    print(root, body);
                }
                last = now;
            }
            if (!watch) {
                return;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void print(IntentCtl root, JsonNode body) {
        Output.Table t = new Output.Table("HOST", "ADDRESS", "PORTS", "VERSION", "SINCE");
        for (JsonNode e : body.path("endpoints")) {
            List<String> ports = new ArrayList<>();
            e.path("ports").fields().forEachRemaining(p -> ports.add(p.getKey() + "=" + p.getValue().asInt()));
            t.row(e.path("host").asText(), e.path("address").asText(), String.join(",", ports),
                    e.path("version").asText(), e.path("since").asText());
        }
        t.print(root.out());
        root.out().flush();
    }
}
