package io.intent.store.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.auth.Permission;
import io.intent.testkit.EtcdCluster;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Credentials come from configuration: an auth-enabled etcd needs no code change. */
class AuthTest {
    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Test
    void credentialsFromConfigReachAnAuthEnabledClusterWithTheirRolesPermissions() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single()) {
            try (EtcdStore admin = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
                var auth = admin.client().getAuthClient();
                auth.userAdd(bs("root"), bs("rootpw")).get(10, TimeUnit.SECONDS);
                auth.roleAdd(bs("root")).get(10, TimeUnit.SECONDS);
                auth.userGrantRole(bs("root"), bs("root")).get(10, TimeUnit.SECONDS);
                auth.userAdd(bs("h1"), bs("h1pw")).get(10, TimeUnit.SECONDS);
                auth.roleAdd(bs("h1")).get(10, TimeUnit.SECONDS);
                auth.roleGrantPermission(bs("h1"), bs("/intent/assign/h1/"), bs("/intent/assign/h10"),
                        Permission.Type.READ).get(10, TimeUnit.SECONDS);
                auth.userGrantRole(bs("h1"), bs("h1")).get(10, TimeUnit.SECONDS);
                auth.authEnable().get(10, TimeUnit.SECONDS);
            }
            var base = EtcdConfig.of(etcd.endpoints());
            try (EtcdStore root = EtcdStore.connect(base.withCredentials("root", "rootpw"))) {
                root.put("/intent/assign/h1/web", Map.of("v", 1));
                root.put("/intent/assign/h2/web", Map.of("v", 2));
            }
            try (EtcdStore host = EtcdStore.connect(base.withCredentials("h1", "h1pw"))) {
                assertEquals(1, host.list("/intent/assign/h1/", Map.class).entries().size());
                var denied = assertThrows(PermissionDeniedException.class,
                        () -> host.list("/intent/assign/h2/", Map.class));
                assertFalse(denied.isTransient(), "permission denied is not worth retrying");
                assertEquals("h1", denied.user());
                assertEquals("list /intent/assign/h2/", denied.operation());
                assertTrue(denied.getMessage().startsWith("etcd denied user 'h1' permission to list /intent/assign/h2/ "
                        + "(StatusRuntimeException: PERMISSION_DENIED: etcdserver: permission denied)"),
                        denied.getMessage());
                long started = System.nanoTime();
                var write = assertThrows(PermissionDeniedException.class,
                        () -> host.putIf("/intent/apps/x", Map.of(), 0));
                assertTrue(System.nanoTime() - started < host.retryBudget().toNanos() / 2, "never retried");
                assertTrue(write.getMessage().contains("user 'h1' permission to put /intent/apps/x if absent"),
                        write.getMessage());
            }
            try (EtcdStore anonymous = EtcdStore.connect(base)) {
                assertThrows(StoreException.class, () -> anonymous.put("/intent/apps/x", Map.of()));
            }
            try (EtcdStore wrong = EtcdStore.connect(base.withCredentials("h1", "nope"))) {
                assertThrows(Exception.class, () -> wrong.get("/intent/assign/h1/web", Map.class));
            }
        }
    }
}
