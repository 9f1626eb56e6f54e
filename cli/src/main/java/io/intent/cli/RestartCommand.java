package io.intent.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code intentctl restart APP [--host H]}. */
@Command(name = "restart", mixinStandardHelpOptions = true,
        description = {"Restart an app's instances (or the one on --host) without changing its version: the",
            "restart is recorded in the intent (restart.generation, restart.hosts) and goes through the normal",
            "rollout (rollout slots under maxUnavailable, health gate), one instance after another."})
final class RestartCommand extends CtlCommand {
    @Mixin
    AppTarget target;

    @Override
    public Integer call() {
        String app = target.app;
        String host = target.host;
        var r = root.client().post("/v1/apps/" + ApiClient.enc(app) + "/restart",
                host == null ? Map.of() : Map.of("host", host)).body();
        root.report(r, () -> "app/" + app + " restart requested " + (host == null ? "for every instance"
                : "on " + host) + " (revision " + r.path("revision").asLong() + ")");
        return 0;
    }
}
