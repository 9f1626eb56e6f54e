package io.intent.api;

import static io.intent.api.ApiFixture.VIEWER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.Pki;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;

/** The API over HTTPS with a certificate from a private CA made at test time, and /metrics behind a token. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpsTest {
    Path dir;
    Pki pki;
    ApiFixture f;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("intent-https-");
        pki = Pki.create(dir);
        Pki.Cert cert = pki.issue("api", "127.0.0.1", "localhost");
        HttpClient trusting = HttpClient.newBuilder().sslContext(pki.sslContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        f = new ApiFixture(o -> o.withTls(new ApiServer.Tls(cert.cert(), cert.key())).withMetricsNeedToken(true),
                trusting);
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void theApiServesHttpsWithAPemCertificateFromAPrivateCa() throws Exception {
        assertTrue(f.api.url().startsWith("https://127.0.0.1:"), f.api.url());
        assertEquals(200, f.get("/healthz", null).statusCode());
        assertEquals(200, f.get("/v1/apps", VIEWER).statusCode());
        var page = f.get("/", null);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<script"), page.body());
    }

    @Test
    void aClientThatDoesNotTrustTheCaIsRefused() {
        HttpClient plain = HttpClient.newHttpClient();
        assertThrows(SSLHandshakeException.class, () -> plain.send(HttpRequest.newBuilder(
                URI.create(f.url("/healthz"))).build(), HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void plainHttpOnTheHttpsPortGetsNoAnswer() {
        HttpClient plain = HttpClient.newHttpClient();
        URI http = URI.create(f.url("/healthz").replace("https://", "http://"));
        assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(http)
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void metricsWantABearerTokenWhenConfigured() throws Exception {
        var anonymous = f.get("/metrics", null);
        ApiTest.assertError(anonymous, 401, "unauthorized");
        ApiTest.assertError(f.get("/metrics", "not-a-token"), 401, "unauthorized");
        var scraped = f.get("/metrics", VIEWER);
        assertEquals(200, scraped.statusCode());
        assertTrue(scraped.body().contains("jvm_memory_used_bytes"), scraped.body());
        assertEquals(200, f.get("/healthz", null).statusCode(), "health stays open for probes");
        assertEquals(200, f.get("/readyz", null).statusCode());
    }

    @Test
    void apiMainRefusesACertificateWithoutItsKeyNamingTheOption() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ApiMain()).setErr(new PrintWriter(err, true));
        int code = cl.execute("--tls-cert", pki.ca().toString(), "--etcd", "http://127.0.0.1:1");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--tls-key is missing"), err.toString());

        StringWriter err2 = new StringWriter();
        int code2 = new CommandLine(new ApiMain()).setErr(new PrintWriter(err2, true)).execute("--tls-cert",
                pki.ca().toString(), "--tls-key", dir.resolve("nope.pem").toString());
        assertEquals(2, code2, err2.toString());
        assertTrue(err2.toString().contains("--tls-key " + dir.resolve("nope.pem") + ": not a readable file"),
                err2.toString());
    }

    @Test
    void theShippedApiConfigServesHttpsFromTheDocumentedFilesWithMetricsBehindAToken() {
        Path shipped = io.intent.testkit.Rbac.script().getParent().getParent().resolve("intent/api.yaml");
        String[] args = {"--config", shipped.toString()};
        ApiMain main = new ApiMain();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(main).setErr(new PrintWriter(err, true));
        cl.setDefaultValueProvider(io.intent.daemon.config.ConfigDefaults.from(args, Map.of()));
        cl.parseArgs(args);
        assertEquals(Path.of("/etc/intent/tls/api.pem"), main.tlsCert);
        assertEquals(Path.of("/etc/intent/tls/api-key.pem"), main.tlsKey);
        assertEquals(ApiMain.MetricsAuth.token, main.metricsAuth);
        assertEquals(List.of("https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://10.0.0.3:2379"),
                main.etcd.toConfig().endpoints());
        assertEquals(Path.of("/etc/intent/tls/ca.pem"), main.etcd.toConfig().caFile());
    }
}
