package io.intent.store.etcd;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to reach etcd: endpoints, optional user/password and TLS files, the key root and the per-call timeout.
 * Comes from configuration (flags, environment, file), so an auth-enabled TLS cluster needs no code change.
 */
public record EtcdConfig(
        List<String> endpoints,
        String user,
        String password,
        Path caFile,
        Path certFile,
        Path keyFile,
        String root,
        Duration callTimeout) {

    public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:2379";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    public EtcdConfig {
        if (endpoints == null || endpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one etcd endpoint is required");
        }
        endpoints = List.copyOf(endpoints);
        if (root == null) {
            root = io.intent.store.KeyLayout.DEFAULT_ROOT;
        }
        if (callTimeout == null) {
            callTimeout = DEFAULT_TIMEOUT;
        }
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("etcd user and password go together");
        }
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("etcd client certificate and key go together");
        }
    }

    public static EtcdConfig of(List<String> endpoints) {
        return new EtcdConfig(endpoints, null, null, null, null, null, null, null);
    }

    public static EtcdConfig of(String... endpoints) {
        return of(List.of(endpoints));
    }

    public EtcdConfig withRoot(String newRoot) {
        return new EtcdConfig(endpoints, user, password, caFile, certFile, keyFile, newRoot, callTimeout);
    }

    public EtcdConfig withCredentials(String newUser, String newPassword) {
        return new EtcdConfig(endpoints, newUser, newPassword, caFile, certFile, keyFile, root, callTimeout);
    }

    /** Verifies etcd's TLS certificates with the PEM CA bundle {@code ca} (endpoints are then https URLs). */
    public EtcdConfig withTrustedCa(Path ca) {
        return new EtcdConfig(endpoints, user, password, ca, certFile, keyFile, root, callTimeout);
    }

    public EtcdConfig withCallTimeout(Duration t) {
        return new EtcdConfig(endpoints, user, password, caFile, certFile, keyFile, root, t);
    }

    @Override
    public String toString() {
        return "EtcdConfig[endpoints=" + endpoints + ", user=" + user + ", password=" + (password == null ? "none"
                : "***") + ", tls=" + (caFile != null) + ", root=" + root + ", callTimeout=" + callTimeout + "]";
    }
}
