package io.intent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code intentctl delete app|host NAME}. */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = {"Delete an app's intent (its instances are then stopped everywhere) or a host (admin)."})
final class DeleteCommand extends CtlCommand {
    @Parameters(index = "0", paramLabel = "KIND", description = "app or host")
    String kind;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Option(names = "--if-match", paramLabel = "ETAG", description = "delete only if unchanged since this ETag")
    String ifMatch;

    @Override
    public Integer call() {
        String path = switch (kind) {
            case "app" -> "/v1/apps/";
            case "host" -> "/v1/hosts/";
            default -> throw new CtlException(2, "delete supports: app, host");
        };
        root.client().delete(path + ApiClient.enc(name), ifMatch);
        root.say(kind + "/" + name + " deleted");
        return 0;
    }
}
