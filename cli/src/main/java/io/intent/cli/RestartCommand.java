package io.intent.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl restart APP [--host H]}. */
@Command(name = "restart", mixinStandardHelpOptions = true,
        description = {"Restart an app's instances (or the one on --host) without changing its version: the",
            "restart is recorded in the intent (restart.generation, restart.hosts) and goes through the normal",
            "rollout (rollout slots under maxUnavailable, health gate), one instance after another."})
final class RestartCommand implements Callable<Integer> {
    @ParentCommand
    IntentCtl root;

    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Option(names = "--host", paramLabel = "HOST", description = "restart only the instance on this host")
    String host;

    @Override
    public Integer call() {
        var r = root.client().post("/v1/apps/" + ApiClient.enc(app) + "/restart",
                host == null ? Map.of() : Map.of("host", host)).body();
        if (!Output.structured(root.out(), root.output, r)) {
            root.out().println("app/" + app + " restart requested " + (host == null ? "for every instance"
                    : "on " + host) + " (revision " + r.path("revision").asLong() + ")");
            root.out().flush();
        }
        return 0;
    }
}
