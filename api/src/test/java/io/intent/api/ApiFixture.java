package io.intent.api;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.testkit.EtcdCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/** A real etcd, a store client and a running API with three tokens (admin, operator, viewer). */
final class ApiFixture implements AutoCloseable {
    static final String ADMIN = "admin-token-0123456789";
    static final String OPERATOR = "operator-token-0123456789";
    static final String VIEWER = "viewer-token-0123456789";

    final EtcdCluster etcd;
    final EtcdStore store;
    final Tokens tokens;
    final ApiServer api;
    final HttpClient http;

    ApiFixture() throws IOException {
        this(List.of("preparer", "iptables", "setlive"));
    }

    ApiFixture(List<String> agents) throws IOException {
        this(agents, EtcdConfig.DEFAULT_TIMEOUT);
    }

    /** With {@code etcdTimeout} per etcd call (the API answers 503 after three of them fail). */
    ApiFixture(List<String> agents, Duration etcdTimeout) throws IOException {
        this(agents, etcdTimeout, o -> o, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
    }

    /** With the server's options changed by {@code custom}, and {@code http} as the client (e.g. trusting a CA). */
    ApiFixture(UnaryOperator<ApiServer.Options> custom, HttpClient http) throws IOException {
        this(List.of("preparer", "iptables", "setlive"), EtcdConfig.DEFAULT_TIMEOUT, custom, http);
    }

    private ApiFixture(List<String> agents, Duration etcdTimeout, UnaryOperator<ApiServer.Options> custom,
                       HttpClient http) throws IOException {
        this.http = http;
        etcd = EtcdCluster.single();
        try {
            store = EtcdStore.connect(new EtcdConfig(etcd.endpoints(), null, null, null, null, null, null,
                    etcdTimeout));
            Path file = Files.createTempFile("tokens", ".yaml");
            Files.writeString(file, "- {name: alice, role: admin, sha256: " + Tokens.hash(ADMIN) + "}\n"
                    + "- {name: bob, role: operator, sha256: " + Tokens.hash(OPERATOR) + "}\n"
                    + "- {name: carol, role: viewer, sha256: " + Tokens.hash(VIEWER) + "}\n");
            tokens = Tokens.fromFile(file).follow(store);
            Files.delete(file);
            api = ApiServer.start(store, tokens, custom.apply(ApiServer.Options.defaults().withPort(0)
                    .withExpectedAgents(agents)));
        } catch (RuntimeException | Error e) {
            etcd.close();
            throw e;
        }
    }

    String url(String path) {
        return api.url() + path;
    }

    HttpRequest.Builder request(String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    HttpResponse<String> get(String path, String token) throws Exception {
        return http.send(request(path, token).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> put(String path, String token, String json, String... headers) throws Exception {
        var b = request(path, token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String token, String json, String... headers) throws Exception {
        var b = request(path, token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> delete(String path, String token, String... headers) throws Exception {
        var b = request(path, token).DELETE();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        try {
            api.close();
            tokens.close();
            store.close();
        } finally {
            etcd.close();
        }
    }
}
