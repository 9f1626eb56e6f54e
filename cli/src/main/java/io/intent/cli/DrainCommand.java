package io.intent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code intentctl drain HOST [--undo]}. */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = "Drain a host (no new instances; existing ones move away), or --undo it.")
final class DrainCommand extends CtlCommand {
    @Parameters(index = "0", paramLabel = "HOST")
    String host;

    @Option(names = "--undo", description = "stop draining")
    boolean undo;

    @Override
    public Integer call() {
        DeployCommand.Edit.edit(root, "/v1/hosts/" + ApiClient.enc(host), "spec", s -> s.put("drain", !undo));
        root.say("host/" + host + (undo ? " undrained" : " draining"));
        return 0;
    }
}
