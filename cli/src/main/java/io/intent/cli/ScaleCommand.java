package io.intent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl scale APP N}. */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = "Set how many hosts run APP; guarded by the app's ETag.")
final class ScaleCommand implements Callable<Integer> {
    @ParentCommand
    IntentCtl root;

    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Parameters(index = "1", paramLabel = "N")
    int scale;

    @Override
    public Integer call() {
        var r = DeployCommand.Edit.intent(root, app, i -> i.put("scale", scale));
        root.out().println("app/" + app + " scale " + scale + " (revision " + r.path("revision").asLong() + ")");
        root.out().flush();
        return 0;
    }
}
