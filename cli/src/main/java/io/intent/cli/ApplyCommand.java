package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code intentctl apply -f FILE}: validates every app of the file first, then writes the ones that change. */
@Command(name = "apply", mixinStandardHelpOptions = true,
        description = {"Create or update the apps (and hosts) of a YAML or JSON file.",
            "Every app is validated by the API first (POST /v1/plan); if any is invalid, nothing is written.",
            "Unchanged apps are not rewritten. File format: see `intentctl plan --help` or docs/api.md:",
            "  name: web            # one app per YAML document (---), or",
            "  versions: {...}      # apps: {web: {...}, api: {...}}, or",
            "  active: \"1.0\"        # kind: host, name: h1, drain: true"})
final class ApplyCommand extends CtlCommand {
    @Mixin
    FileOption file;

    @Option(names = "--dry-run", description = "only show what would change (same as plan)")
    boolean dryRun;

    @Override
    public Integer call() {
        Manifest m = file.read();
        ApiClient api = root.client();
        JsonNode plan = m.apps().isEmpty() ? null : api.post("/v1/plan", Map.of("apps", m.apps())).body();
        if (plan != null && !plan.path("valid").asBoolean()) {
            PlanCommand.printInvalid(root.err(), plan);
            throw new CtlException(1, "nothing was applied: fix the errors above");
        }
        if (dryRun) {
            if (plan != null && !Output.structured(root.out(), root.output, plan)) {
                PlanCommand.print(root.out(), plan);
            }
            return 0;
        }
        Map<String, String> results = new LinkedHashMap<>();
        if (plan != null) {
            for (JsonNode a : plan.path("apps")) {
                String name = a.path("name").asText();
                String action = a.path("action").asText();
                if (action.equals("unchanged")) {
                    results.put("app/" + name, "unchanged");
                    continue;
                }
                var r = api.put("/v1/apps/" + name, m.apps().get(name), null);
                results.put("app/" + name, (r.status() == 201 ? "created" : "configured") + " (revision "
                        + r.body().path("revision").asLong() + ")");
            }
        }
        for (var h : m.hosts().entrySet()) {
            var r = api.put("/v1/hosts/" + h.getKey(), h.getValue(), null);
            results.put("host/" + h.getKey(), r.status() == 201 ? "created" : "configured");
        }
        if (!Output.structured(root.out(), root.output, results)) {
            results.forEach((k, v) -> root.say(k + " " + v));
        }
        return 0;
    }
}
