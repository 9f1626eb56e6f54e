package io.intent.store.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.Pki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A TLS-only 3-member etcd (client and peer TLS, certificates made at test time) with password auth. */
class TlsTest {
    @Test
    void theStoreReachesATlsOnlyClusterWithTheCaAndAPasswordAndNothingLess() throws Exception {
        Path dir = Files.createTempDirectory("intent-etcd-tls-");
        Pki pki = Pki.create(dir);
        try (EtcdCluster etcd = EtcdCluster.startTls(3, "127.0.0.1", pki)) {
            assertTrue(etcd.endpoint(0).startsWith("https://"), etcd.endpoint(0));
            var tls = EtcdConfig.of(etcd.endpoints()).withTrustedCa(pki.ca());
            try (EtcdStore admin = EtcdStore.connect(tls)) {
                var auth = admin.client().getAuthClient();
                auth.userAdd(bs("root"), bs("rootpw")).get(10, TimeUnit.SECONDS);
                auth.roleAdd(bs("root")).get(10, TimeUnit.SECONDS);
                auth.userGrantRole(bs("root"), bs("root")).get(10, TimeUnit.SECONDS);
                auth.authEnable().get(10, TimeUnit.SECONDS);
            }
            try (EtcdStore root = EtcdStore.connect(tls.withCredentials("root", "rootpw"))) {
                root.put("/intent/apps/tls", Map.of("v", 1));
                assertEquals(1, root.get("/intent/apps/tls", Map.class).orElseThrow().value().get("v"));
            }
            // the same password without the CA: the members' certificates are not trusted
            var noCa = EtcdConfig.of(etcd.endpoints()).withCredentials("root", "rootpw")
                    .withCallTimeout(Duration.ofSeconds(1));
            try (EtcdStore untrusted = EtcdStore.connect(noCa)) {
                assertThrows(StoreException.class, () -> untrusted.get("/intent/apps/tls", Map.class));
            }
            // the CA without a password: auth is on
            try (EtcdStore anonymous = EtcdStore.connect(tls.withCallTimeout(Duration.ofSeconds(1)))) {
                assertThrows(StoreException.class, () -> anonymous.put("/intent/apps/x", Map.of()));
            }
            // a plain-HTTP client gets nothing from a TLS port
            var plain = EtcdConfig.of(etcd.endpoints().stream().map(u -> u.replace("https://", "http://")).toList())
                    .withCredentials("root", "rootpw").withCallTimeout(Duration.ofSeconds(1));
            try (EtcdStore cleartext = EtcdStore.connect(plain)) {
                assertThrows(StoreException.class, () -> cleartext.get("/intent/apps/tls", Map.class));
            }
        }
    }

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
