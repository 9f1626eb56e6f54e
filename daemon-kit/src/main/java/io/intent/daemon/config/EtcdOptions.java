package io.intent.daemon.config;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The etcd connection options every intent process shares (a picocli mixin). Its fields share a shape with every
 * other options class on purpose: picocli declares one annotated field per option.
 */
public final class EtcdOptions {
    @Option(names = "--etcd", split = ",", paramLabel = "URL",
            description = "etcd endpoints, comma-separated (env INTENT_ETCD). Default: ${DEFAULT-VALUE}",
            defaultValue = EtcdConfig.DEFAULT_ENDPOINT)
    List<String> endpoints;

    @Option(names = "--etcd-user", paramLabel = "USER", description = "etcd user, when auth is on")
    String user;

    @Option(names = "--etcd-password-file", paramLabel = "FILE",
            description = "file holding the etcd user's password (never pass passwords as flags)")
    Path passwordFile;

    @Option(names = "--etcd-ca", paramLabel = "FILE", description = "CA bundle to verify etcd's TLS certificate")
    Path ca;

    @Option(names = "--etcd-cert", paramLabel = "FILE", description = "client certificate for etcd TLS auth")
    Path cert;

    @Option(names = "--etcd-key", paramLabel = "FILE", description = "client key for etcd TLS auth")
    Path key;

    @Option(names = "--key-root", paramLabel = "PREFIX", defaultValue = KeyLayout.DEFAULT_ROOT,
            description = "root of intent's keys in etcd. Default: ${DEFAULT-VALUE}")
    String keyRoot;

    @Option(names = "--etcd-timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "timeout of one etcd call. Default: ${DEFAULT-VALUE}")
    int timeoutSeconds;

    public EtcdConfig toConfig() {
        String password = null;
        if (passwordFile != null) {
            try {
                password = java.nio.file.Files.readString(passwordFile).strip();
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read --etcd-password-file " + passwordFile + ": "
                        + e.getMessage());
            }
        }
        return new EtcdConfig(endpoints, user, password, ca, cert, key, keyRoot,
                Duration.ofSeconds(timeoutSeconds));
    }
}
