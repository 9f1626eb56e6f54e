package io.intent.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code intentctl}: the command-line client of the intent API. */
@Command(name = "intentctl", mixinStandardHelpOptions = true, version = "intentctl 0.1",
        description = {"Operate intent through its HTTP API: apply and plan intents, read status, roll back.", "",
            "Exit codes: 0 done (status --wait: converged), 1 error (the API's message is printed),",
            "2 bad usage, 3 status --wait timed out before converging."},
        subcommands = {ApplyCommand.class, PlanCommand.class, GetCommand.class, DescribeCommand.class,
            StatusCommand.class, DeleteCommand.class, RollbackCommand.class, DeployCommand.class,
            ScaleCommand.class, DrainCommand.class, TokenCommand.class, LogsCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:", "  export INTENT_API=https://api.example.org:8080 INTENT_CACERT=/etc/intent/tls/ca.pem INTENT_TOKEN=...",
            "  intentctl apply -f apps.yaml", "  intentctl status --wait web --timeout 5m",
            "  intentctl rollback app web", "  intentctl get hosts -o yaml"})
public final class IntentCtl {
    @Spec
    CommandSpec spec;

    @Option(names = "--api", scope = ScopeType.INHERIT, paramLabel = "URL",
            defaultValue = "${env:INTENT_API:-http://127.0.0.1:8080}",
            description = "the API's base URL (env INTENT_API). Default: ${DEFAULT-VALUE}")
    String api;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN", defaultValue = "${env:INTENT_TOKEN}",
            description = "bearer token (env INTENT_TOKEN; --token-file keeps it out of ps and shell history)")
    String token;

    @Option(names = "--token-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "file holding the bearer token")
    Path tokenFile;

    @Option(names = "--cacert", scope = ScopeType.INHERIT, paramLabel = "FILE", defaultValue = "${env:INTENT_CACERT}",
            description = "PEM CA certificate(s) to trust for an https --api, e.g. a private CA's ca.pem "
                    + "(env INTENT_CACERT); without it the JDK's default CAs")
    Path cacert;

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json or yaml. Default: ${DEFAULT-VALUE}")
    Output.Format output;

    @Option(names = "--request-timeout", scope = ScopeType.INHERIT, defaultValue = "30", paramLabel = "SECONDS",
            description = "timeout of one API request. Default: ${DEFAULT-VALUE}")
    int requestTimeout;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with intentctl's error handling: API errors print their message and exit 1. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new IntentCtl());
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

    ApiClient client() {
        String t = token;
        if (tokenFile != null) {
            try {
                t = Files.readString(tokenFile).strip();
            } catch (IOException e) {
                throw new CtlException(1, "cannot read --token-file " + tokenFile + ": " + e.getMessage());
            }
        }
        return new ApiClient(api, t, Duration.ofSeconds(requestTimeout),
                cacert == null ? null : ApiClient.trusting(cacert));
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
