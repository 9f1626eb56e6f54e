package io.intent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl config ...}: the contexts of intentctl's config file, like kubectl's. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = {"Named contexts (API URL, token file, CA certificate) in intentctl's config file",
            "(--config, env INTENTCTL_CONFIG, default ~/.config/intent/config.yaml).",
            "--api, INTENT_API, --token, --token-file and INTENT_TOKEN still win over the context."},
        subcommands = {ConfigCommand.SetContext.class, ConfigCommand.UseContext.class, ConfigCommand.GetContexts.class,
            ConfigCommand.CurrentContext.class, ConfigCommand.DeleteContext.class, ConfigCommand.View.class})
final class ConfigCommand {
    @ParentCommand
    IntentCtl root;

    /** Creates a context, or changes the given fields of one. */
    @Command(name = "set-context", mixinStandardHelpOptions = true,
            description = "Create context NAME or change its fields; the first context becomes the current one.")
    static final class SetContext extends ContextCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--server", paramLabel = "URL", description = "the API's base URL")
        String server;

        @Option(names = "--token-path", paramLabel = "FILE", description = "file holding the bearer token")
        String tokenPath;

        @Option(names = "--ca-file", paramLabel = "FILE", description = "CA certificate (PEM) of an https API")
        String caFile;

        @Override
        public Integer call() {
            IntentCtl root = root();
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
                throw new CtlException(2, "context name '" + name + "': use letters, digits, '.', '_' and '-'");
            }
            if (server != null) {
                ApiClient.checkUrl(server);
            }
            CtlConfig c = root.config().withContext(name, new CtlConfig.Context(server, tokenPath, caFile));
            c.save(root.configPath());
            root.say("context " + name + " set in " + root.configPath()
                    + (name.equals(c.currentContext()) ? " (current)" : ""));
            return 0;
        }
    }

    /** Makes a context the current one. */
    @Command(name = "use-context", mixinStandardHelpOptions = true, description = "Make NAME the current context.")
    static final class UseContext extends ContextCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return rewrite(name, c -> c.using(name), "switched to context " + name);
        }
    }

    /** Lists the contexts. */
    @Command(name = "get-contexts", mixinStandardHelpOptions = true, description = "List the contexts.")
    static final class GetContexts extends ContextCommand {
        @Override
        public Integer call() {
            IntentCtl root = root();
            CtlConfig c = root.config();
            if (root.output == Output.Format.name) {
                c.contexts().keySet().forEach(root.out()::println);
                root.out().flush();
                return 0;
            }
            if (Output.structured(root.out(), root.output, c)) {
                return 0;
            }
            Output.Table t = new Output.Table("CURRENT", "NAME", "API", "TOKEN-FILE", "CACERT");
            c.contexts().forEach((n, x) -> t.row(n.equals(c.currentContext()) ? "*" : "", n, dash(x.api()),
                    dash(x.tokenFile()), dash(x.cacert())));
            t.print(root.out());
            return 0;
        }
    }

    /** Prints the current context's name. */
    @Command(name = "current-context", mixinStandardHelpOptions = true, description = "Print the current context.")
    static final class CurrentContext extends ContextCommand {
        @Override
        public Integer call() {
            String cur = root().config().currentContext();
            if (cur == null) {
                throw new CtlException(1, "no current context; intentctl config use-context NAME");
            }
            root().say(cur);
            return 0;
        }
    }

    /** Removes a context. */
    @Command(name = "delete-context", mixinStandardHelpOptions = true, description = "Remove context NAME.")
    static final class DeleteContext extends ContextCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return rewrite(name, c -> c.without(name), "deleted context " + name);
        }
    }

    /** Prints the config file. */
    @Command(name = "view", mixinStandardHelpOptions = true, description = "Print the config (YAML, or -o json).")
    static final class View extends ContextCommand {
        @Override
        public Integer call() {
            IntentCtl root = root();
            Output.structured(root.out(), root.output == Output.Format.json ? Output.Format.json : Output.Format.yaml,
                    root.config());
            return 0;
        }
    }

    /** A {@code config} subcommand: picocli fills in {@link #parent}. */
    abstract static class ContextCommand implements Callable<Integer> {
        @ParentCommand
        ConfigCommand parent;

        IntentCtl root() {
            return parent.root;
        }

        /** Saves {@code change} of the config file, which must hold context {@code name}, and says {@code done}. */
        int rewrite(String name, java.util.function.UnaryOperator<CtlConfig> change, String done) {
            CtlConfig c = root().config();
            c.context(name);
            change.apply(c).save(root().configPath());
            root().say(done);
            return 0;
        }
    }

    private static String dash(String s) {
        return s == null ? "-" : s;
    }
}
