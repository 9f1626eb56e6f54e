package io.intent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code intentctl scale APP N}. */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = "Set how many hosts run APP; guarded by the app's ETag.")
final class ScaleCommand extends CtlCommand {
    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Parameters(index = "1", paramLabel = "N")
    int scale;

    @Override
    public Integer call() {
        var r = DeployCommand.Edit.intent(root, app, i -> i.put("scale", scale));
        root.say("app/" + app + " scale " + scale + " (revision " + r.path("revision").asLong() + ")");
        return 0;
    }
}
