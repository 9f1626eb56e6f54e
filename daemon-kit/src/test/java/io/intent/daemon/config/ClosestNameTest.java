package io.intent.daemon.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** An unknown config key is answered with the known name closest to it (moved here from ConfigDefaultsTest,
 * which stays with AgentOptions in agent-kit, because closest is package-private). */
class ClosestNameTest {

    @Test
    void theClosestKnownNameIsTheOneWithTheFewestEdits() {
        List<String> known = List.of("lease-ttl", "host-grace", "liveness-ttl", "name", "etcd-user");
        assertEquals("lease-ttl", ConfigDefaults.closest("ttl", List.of("lease-ttl", "host-grace", "name")));
        assertEquals("host-grace", ConfigDefaults.closest("grace", known));
        assertEquals("etcd-user", ConfigDefaults.closest("etcd-usr", known));
    }
}
