package io.intent.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Mixin;

/** {@code intentctl rollback app NAME [--to VERSION]}. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Set an app's active version back to the previous one: the most recent earlier active",
            "version (read from etcd's history of the app key) that is still listed in versions.",
            "--to picks the version. Only `active` changes."})
final class RollbackCommand extends CtlCommand {
    @Mixin
    AppArgument app;

    @Option(names = "--to", paramLabel = "VERSION", description = "the version to make active")
    String to;

    @Override
    public Integer call() {
        String name = app.app("rollback");
        var r = root.client().post("/v1/apps/" + ApiClient.enc(name) + "/rollback",
                to == null ? null : Map.of("to", to)).body();
        root.report(r, () -> "app/" + name + " rolled back: active " + r.path("from").asText() + " -> "
                + r.path("to").asText() + " (revision " + r.path("revision").asLong() + ")");
        return 0;
    }
}
