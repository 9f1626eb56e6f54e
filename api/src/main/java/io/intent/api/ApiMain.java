package io.intent.api;

import io.intent.daemon.config.ConfigDefaults;
import io.intent.daemon.config.EtcdOptions;
import io.intent.daemon.Logging;
import io.intent.store.etcd.EtcdStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs the HTTP API and web page: {@code java io.intent.api.ApiMain --etcd URL --tokens-file FILE}. */
@Command(name = "intent-api", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The intent HTTP API (/v1), event stream, web page, /healthz, /readyz and /metrics.",
            "Tokens: a YAML/JSON file listing {name, role: admin|operator|viewer, sha256} and/or etcd keys",
            "<root>/auth/tokens/<name> = {\"role\": ..., \"sha256\": ...}. `--hash-token` prints a token's sha256.",
            "HTTPS: --tls-cert and --tls-key (PEM)."})
public final class ApiMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ApiMain.class);

    @Mixin
    EtcdOptions etcd;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // read by ConfigDefaults before parsing; declared so `intent-api --config FILE` (the shipped unit) parses
    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML/JSON file of option: value (env INTENT_CONFIG); flags and env win over it")
    Path config;

    // --listen: the option's old name, kept as a flag; the config key and variable follow --http-address
    @Option(names = {"--http-address", "--listen"}, paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "address of the API, the web page, /healthz, /readyz and /metrics (env "
                    + "INTENT_HTTP_ADDRESS). Default: ${DEFAULT-VALUE}")
    String listen;

    @Option(names = "--port", defaultValue = "8080", description = "port (0 = any free one). Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate (chain) to serve HTTPS with; needs --tls-key (env INTENT_TLS_CERT)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert (env INTENT_TLS_KEY)")
    Path tlsKey;

    /** Whether /metrics is open or wants a bearer token. */
    enum MetricsAuth { open, token }

    @Option(names = "--metrics-auth", paramLabel = "open|token", defaultValue = "open",
            description = "token: /metrics wants a bearer token of any role, like /v1 (env INTENT_METRICS_AUTH). "
                    + "Default: ${DEFAULT-VALUE}")
    MetricsAuth metricsAuth;

    @Option(names = "--tokens-file", paramLabel = "FILE",
            description = "YAML/JSON list of {name, role, sha256} accepted as bearer tokens (env INTENT_TOKENS_FILE)")
    Path tokensFile;

    @Option(names = "--agents", split = ",", defaultValue = "preparer,iptables,setlive",
            description = "agents every host runs; status waits for each. Default: ${DEFAULT-VALUE}")
    List<String> agents;

    @Option(names = "--idempotency-hours", defaultValue = "24",
            description = "how long Idempotency-Key answers are kept. Default: ${DEFAULT-VALUE}")
    int idempotencyHours;

    @Option(names = "--logs-key-file", paramLabel = "FILE",
            description = "the log master key (at least 32 characters, e.g. openssl rand -hex 32): the API signs its "
                    + "requests to each host's logs with a key derived from it; without it /v1/apps/{app}/logs "
                    + "answers 503 (env INTENT_LOGS_KEY_FILE)")
    Path logsKeyFile;

    @Option(names = "--logs-port", paramLabel = "PORT", defaultValue = "9471",
            description = "port of every host's agent HTTP server that serves its logs (the node's http-port; a host "
                    + "of standalone agents gives setlive this port). Default: ${DEFAULT-VALUE}")
    int logsPort;

    @Option(names = "--logs-for-viewers", paramLabel = "true|false", defaultValue = "false", arity = "1",
            description = "whether viewer tokens may read app logs (logs may hold data viewers should not see); "
                    + "else operator and admin only. Default: ${DEFAULT-VALUE}")
    boolean logsForViewers;

    @Option(names = "--logs-host-key", paramLabel = "HOST", description = "print HOST's log key (for its node's "
            + "--logs-key-file), derived from --logs-key-file, and exit")
    String logsHostKey;

    @Option(names = "--hash-token", paramLabel = "TOKEN", description = "print the sha256 of TOKEN (for the "
            + "tokens file) and exit; prefer `-` to read it from stdin so it stays out of the shell history")
    String hashToken;

    public static void main(String[] args) {
        Logging.init();
        CommandLine cl = new CommandLine(new ApiMain());
        ConfigDefaults.install(cl, args, System.getenv());
        int code = cl.execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (hashToken != null) {
            String t = hashToken.equals("-") ? new String(System.in.readAllBytes()).strip() : hashToken;
            System.out.println(Tokens.hash(t));
            return 0;
        }
        String logsKey = logsKey();
        if (logsHostKey != null) {
            if (logsKey == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--logs-host-key needs --logs-key-file");
            }
            System.out.println(io.intent.daemon.logs.LogSigning.hostKey(logsKey,
                    io.intent.store.codec.Names.require("host", logsHostKey)));
            return 0;
        }
        ApiServer.Tls tls = tls();
        Tokens tokens = tokensFile == null ? Tokens.none() : Tokens.fromFile(tokensFile);
        EtcdStore store = EtcdStore.connect(etcd.toConfig());
        tokens.follow(store);
        if (tokens.size() == 0) {
            log.warn("no API tokens configured (--tokens-file, or {}<name> in etcd): every /v1 request gets 401",
                    Tokens.prefix(store.keys()));
        }
        ApiServer.Options opts = new ApiServer.Options(listen, port, agents, Duration.ofHours(idempotencyHours),
                256 * 1024, tls, metricsAuth == MetricsAuth.token);
        ApiServer api = ApiServer.start(store, tokens, opts, logsKey, logsPort, logsForViewers);
        System.out.println("intent API listening on " + api.url() + "/");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            api.close();
            tokens.close();
            store.close();
            stop.countDown();
        }, "api-shutdown"));
        stop.await();
        return 0;
    }

    /** The logs signing key of --logs-key-file, or null; a bad file is bad usage. */
    private String logsKey() {
        if (logsKeyFile == null) {
            return null;
        }
        try {
            return io.intent.daemon.logs.LogSigning.readKey("--logs-key-file", logsKeyFile);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The certificate and key to serve HTTPS with, or null for plain HTTP; a bad pair is bad usage. */
    private ApiServer.Tls tls() {
        if (tlsCert == null && tlsKey == null) {
            return null;
        }
        try {
            return new ApiServer.Tls(tlsCert, tlsKey);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
