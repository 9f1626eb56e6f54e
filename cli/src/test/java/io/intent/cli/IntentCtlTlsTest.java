package io.intent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.ApiServer;
import io.intent.api.Role;
import io.intent.api.Tokens;
import io.intent.cli.Ctl.Run;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import io.intent.testkit.Pki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** intentctl against the API over HTTPS with a certificate from a private CA made at test time. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntentCtlTlsTest {
    static final String OPERATOR = "tls-operator-secret-42";

    Path dir;
    Pki pki;
    EtcdCluster etcd;
    EtcdStore store;
    ApiServer api;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("intent-ctl-tls-");
        pki = Pki.create(dir);
        Pki.Cert cert = pki.issue("api", "127.0.0.1");
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
        Tokens tokens = new Tokens(Map.of(Tokens.hash(OPERATOR), new Tokens.Token("op", Role.OPERATOR, "test")));
        api = ApiServer.start(store, tokens, ApiServer.Options.defaults().withPort(0)
                .withTls(new ApiServer.Tls(cert.cert(), cert.key())));
    }

    @AfterAll
    void stop() {
        try {
            if (api != null) {
                api.close();
            }
            if (store != null) {
                store.close();
            }
        } finally {
            if (etcd != null) {
                etcd.close();
            }
        }
    }

    Run ctl(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--api", api.url(), "--token", OPERATOR, "--request-timeout", "10"));
        return Ctl.run(all.toArray(String[]::new));
    }

    @Test
    void withTheCaCertificateIntentctlTalksHttps() throws Exception {
        assertTrue(api.url().startsWith("https://"), api.url());
        Run put = ctl("scale", "no-such-app", "2", "--cacert", pki.ca().toString());
        assertEquals(1, put.code(), put.err());
        assertTrue(put.err().contains("no-such-app"), "the API answered: " + put.err());
        Run get = ctl("get", "apps", "--cacert", pki.ca().toString());
        assertEquals(0, get.code(), get.err());
    }

    @Test
    void withoutTheCaCertificateItFailsSayingHowToTrustIt() {
        Run r = ctl("get", "apps");
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().contains("not trusted") && r.err().contains("--cacert"), r.err());
    }

    @Test
    void anUnreadableCaFileIsAnErrorNamingIt() {
        Run r = ctl("get", "apps", "--cacert", dir.resolve("missing.pem").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--cacert " + dir.resolve("missing.pem")), r.err());
        Path notPem = dir.resolve("api-key.pem");
        Run bad = ctl("get", "apps", "--cacert", notPem.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("no certificate"), bad.err());
    }

    @Test
    void theLauncherJvmReadsTheCaFromTheEnvironment() throws Exception {
        try (JvmProcess p = JvmProcess.start(IntentCtl.class, List.of("get", "apps", "-o", "json"),
                Map.of("INTENT_API", api.url(), "INTENT_TOKEN", OPERATOR, "INTENT_CACERT", pki.ca().toString()),
                dir.resolve("ctl.log"))) {
            assertTrue(p.waitFor(60), "intentctl did not exit");
            assertEquals(0, p.exitCode(), p.output());
        }
    }
}
