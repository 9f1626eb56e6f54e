package io.intent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl drain HOST [--undo]}. */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = "Drain a host (no new instances; existing ones move away), or --undo it.")
final class DrainCommand implements Callable<Integer> {
    @ParentCommand
    IntentCtl root;

    @Parameters(index = "0", paramLabel = "HOST")
    String host;

    @Option(names = "--undo", description = "stop draining")
    boolean undo;

    @Override
    public Integer call() {
        DeployCommand.Edit.edit(root, "/v1/hosts/" + ApiClient.enc(host), "spec", s -> s.put("drain", !undo));
        root.out().println("host/" + host + (undo ? " undrained" : " draining"));
        root.out().flush();
        return 0;
    }
}
