package io.intent.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl rollback app NAME [--to VERSION]}. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Set an app's active version back to the previous one: the most recent earlier active",
            "version (read from etcd's history of the app key) that is still listed in versions.",
            "--to picks the version. Only `active` changes."})
final class RollbackCommand implements Callable<Integer> {
    @ParentCommand
    IntentCtl root;

    @Parameters(index = "0", paramLabel = "KIND", description = "app")
    String kind;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Option(names = "--to", paramLabel = "VERSION", description = "the version to make active")
    String to;

    @Override
    public Integer call() {
        if (!kind.equals("app")) {
            throw new CtlException(2, "rollback supports: app");
        }
        var r = root.client().post("/v1/apps/" + ApiClient.enc(name) + "/rollback",
                to == null ? null : Map.of("to", to)).body();
        if (!Output.structured(root.out(), root.output, r)) {
            root.out().println("app/" + name + " rolled back: active " + r.path("from").asText() + " -> "
                    + r.path("to").asText() + " (revision " + r.path("revision").asLong() + ")");
            root.out().flush();
        }
        return 0;
    }
}
