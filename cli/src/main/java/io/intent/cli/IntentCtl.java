package io.intent.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code intentctl}: the command-line client of the intent API. */
@Command(name = "intentctl", mixinStandardHelpOptions = true, versionProvider = IntentCtl.Version.class,
        description = {"Operate intent through its HTTP API: apply and plan intents, read status, roll back.", "",
            "Exit codes: 0 done (status --wait: converged), 1 error (the API's message is printed; the API",
            "unreachable; a bad file), 2 bad usage (unknown option, command or kind; a malformed duration or URL),",
            "3 status --wait timed out before converging."},
        footer = {"", "Examples:", "  export INTENT_API=https://api.example.org:8080 INTENT_CACERT=/etc/intent/tls/ca.pem INTENT_TOKEN=...",
            "  intentctl config set-context prod --server https://api.example.org:8080 --token-path ~/.intent-token"
                    + " --ca-file /etc/intent/tls/ca.pem",
            "  intentctl apply -f apps.yaml", "  intentctl status --wait web --timeout 5m",
            "  intentctl get app web -o yaml > web.yaml; $EDITOR web.yaml; intentctl apply -f web.yaml",
            "  intentctl get status --watch", "  intentctl rollback app web", "  intentctl get hosts -o wide",
            "  source <(intentctl completion bash)"})
public final class IntentCtl {
    static final String DEFAULT_API = "http://127.0.0.1:8080";

    /**
     * The subcommands by name, in help order. Registered by code rather than in {@code @Command}: picocli builds a
     * command's whole model (reflection over every option) when it is added, and a call needs only its own.
     */
    private static final Map<String, Class<?>> SUBCOMMANDS = subcommands();

    private static Map<String, Class<?>> subcommands() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        m.put("apply", ApplyCommand.class);
        m.put("plan", PlanCommand.class);
        m.put("get", GetCommand.class);
        m.put("describe", DescribeCommand.class);
        m.put("status", StatusCommand.class);
        m.put("delete", DeleteCommand.class);
        m.put("rollback", RollbackCommand.class);
        m.put("restart", RestartCommand.class);
        m.put("deploy", DeployCommand.class);
        m.put("scale", ScaleCommand.class);
        m.put("drain", DrainCommand.class);
        m.put("channel", ChannelCommand.class);
        m.put("token", TokenCommand.class);
        m.put("logs", LogsCommand.class);
        m.put("config", ConfigCommand.class);
        m.put("completion", CompletionCommand.class);
        m.put("help", CommandLine.HelpCommand.class);
        return m;
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--api", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "the API's base URL. Default: env INTENT_API, else the context's, else " + DEFAULT_API)
    String api;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
            description = "bearer token. Default: env INTENT_TOKEN, else the context's token file "
                    + "(--token-file keeps it out of ps and shell history)")
    String token;

    @Option(names = "--token-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "file holding the bearer token")
    Path tokenFile;

    @Option(names = "--cacert", scope = ScopeType.INHERIT, paramLabel = "FILE", defaultValue = "${env:INTENT_CACERT}",
            description = "PEM CA certificate(s) to trust for an https --api, e.g. a private CA's ca.pem "
                    + "(env INTENT_CACERT); without it the JDK's default CAs")
    Path cacert;

    @Option(names = "--context", scope = ScopeType.INHERIT, paramLabel = "NAME",
            description = "the config file's context to use instead of its current one")
    String context;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "intentctl's config file. Default: env INTENTCTL_CONFIG, else ~/.config/intent/config.yaml")
    Path configFile;

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, wide (more columns), name (kind/name per line), json or yaml "
                    + "(get's json and yaml are accepted back by apply -f). Default: ${DEFAULT-VALUE}")
    Output.Format output;

    @Option(names = "--request-timeout", scope = ScopeType.INHERIT, defaultValue = "30s", paramLabel = "DURATION",
            converter = Durations.class,
            description = "timeout of one API request (30s, 2m, ...). Default: ${DEFAULT-VALUE}")
    Duration requestTimeout;

    private CtlConfig config;

    public static void main(String[] args) {
        System.exit(commandLine(args).execute(args));
    }

    /** The command line with every subcommand and intentctl's error handling: API errors print their message, exit 1. */
    public static CommandLine commandLine() {
        return commandLine(SUBCOMMANDS.keySet());
    }

    /**
     * The command line for running {@code args}: only the subcommands named in them (any argument equal to a
     * subcommand's name, so an option's value that happens to be one costs a little time, never a wrong parse);
     * every subcommand when none is named or the call is {@code help} or {@code completion}, which list them all.
     */
    public static CommandLine commandLine(String... args) {
        Set<String> named = new LinkedHashSet<>();
        for (String a : args) {
            if (a.equals("--")) {
                break;
            }
            if (SUBCOMMANDS.containsKey(a)) {
                named.add(a);
            }
        }
        boolean listsAll = named.isEmpty() || named.contains("help") || named.contains("completion");
        return commandLine(listsAll ? SUBCOMMANDS.keySet() : named);
    }

    private static CommandLine commandLine(Set<String> subcommands) {
        CommandLine cl = new CommandLine(new IntentCtl());
        for (String name : SUBCOMMANDS.keySet()) {
            if (subcommands.contains(name)) {
                cl.addSubcommand(name, SUBCOMMANDS.get(name));
            }
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CtlException c) {
                cmd.getErr().println("error: " + c.getMessage());
                cmd.getErr().flush();
                return c.exitCode();
            }
            throw ex;
        });
        return cl;
    }

    Path configPath() {
        return configFile != null ? configFile : CtlConfig.defaultPath();
    }

    /** The config file, read on first use only. */
    CtlConfig config() {
        if (config == null) {
            config = CtlConfig.load(configPath());
        }
        return config;
    }

    /**
     * The API client: each of URL and token from the flag, else the environment, else the context (the
     * {@code --context} one, else the config's current one), else the default URL and no token.
     */
    ApiClient client() {
        String envApi = blankToNull(System.getenv("INTENT_API"));
        String envToken = blankToNull(System.getenv("INTENT_TOKEN"));
        boolean apiGiven = api != null || envApi != null;
        boolean tokenGiven = token != null || tokenFile != null || envToken != null;
        // the config file is read only when a context is named or something is left to take from it
        CtlConfig.Context ctx = context != null || !apiGiven || !tokenGiven ? config().context(context) : null;
        String url = api != null ? api : envApi != null ? envApi
                : ctx != null && ctx.api() != null ? ctx.api() : DEFAULT_API;
        ApiClient.checkUrl(url);
        String t = token != null ? token : envToken;
        Path file = tokenFile != null ? tokenFile
                : t == null && ctx != null && ctx.tokenFile() != null ? CtlConfig.expand(ctx.tokenFile()) : null;
        if (file != null) {
            try {
                t = Files.readString(file).strip();
            } catch (IOException e) {
                throw new CtlException(1, "cannot read token file " + file + ": " + e.getMessage());
            }
        }
        Path ca = cacert != null ? cacert
                : ctx != null && ctx.cacert() != null ? CtlConfig.expand(ctx.cacert()) : null;
        return new ApiClient(url, t, requestTimeout, ca == null ? null : CaTrust.trusting(ca));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints one line of the command's answer. */
    void say(String line) {
        out().println(line);
        out().flush();
    }

    /** Prints {@code body} in a structured -o format, else the one human line. */
    void report(Object body, java.util.function.Supplier<String> line) {
        if (!Output.structured(out(), output, body)) {
            say(line.get());
        }
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** {@code intentctl --version}: the version the build wrote into version.properties. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"intentctl " + version(), "Java " + Runtime.version()};
        }

        static String version() {
            Properties p = new Properties();
            try (InputStream in = IntentCtl.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                return "unknown (" + e.getMessage() + ")";
            }
            return p.getProperty("version", "unknown (built without version.properties)");
        }
    }
}
