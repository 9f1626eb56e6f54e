package io.intent.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl completion bash|zsh}: the shell completion script picocli generates from the commands. */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Print the completion script for bash or zsh (commands, options, kinds, formats):",
            "  source <(intentctl completion bash)        # or save it in /etc/bash_completion.d/intentctl",
            "  source <(intentctl completion zsh)         # zsh loads bashcompinit for it"})
final class CompletionCommand implements Callable<Integer> {
    /** The shells picocli's script supports. */
    enum Shell { bash, zsh }

    @ParentCommand
    IntentCtl root;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh")
    Shell shell;

    @Override
    public Integer call() {
        // one script serves both: it starts zsh's bashcompinit itself when run by zsh
        String script = AutoComplete.bash("intentctl", root.spec.commandLine());
        root.out().print(script);
        root.out().flush();
        return 0;
    }
}
