package io.intent.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.intent.store.model.Endpoint;
import io.intent.store.model.Liveness;
import io.intent.testkit.Ports;
import io.intent.testkit.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A node (three agents in one JVM) keeps one etcd lease, and everything on it follows it to a new one. */
class NodeLeaseTest {
    @Test
    void aNodeHangsItsLivenessAndEndpointsOnOneLeaseAndMovesBothWhenThatLeaseIsLost() throws Exception {
        Prerequisites.require("etcdctl", "etcd-client");
        try (NodeFixture fx = new NodeFixture()) {
            int port = Ports.free();
            fx.startServing("web", port);
            await().atMost(Duration.ofSeconds(20)).until(() -> fx.endpointPublished("web"));
            long lease = liveLease(fx);
            assertEquals(lease, endpointLease(fx), "liveness and the endpoint hang on one lease");
            assertEquals(Set.of(lease), leases(fx), "the node has granted one lease, not one per agent");

            fx.store.revokeLease(lease); // the lease is lost: both keys go with it
            // the session hears it on its next keep-alive (TTL/3 of 5 s): presence re-puts liveness at once,
            // setlive republishes the endpoint on its next reconcile (resync 2 s)
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                long now = liveLease(fx);
                return now != 0 && now != lease && now == endpointLease(fx) && leases(fx).equals(Set.of(now));
            });
        }
    }

    private static long liveLease(NodeFixture fx) {
        return fx.store.get(fx.store.keys().live(NodeFixture.HOST), Liveness.class).map(e -> e.lease()).orElse(0L);
    }

    private static long endpointLease(NodeFixture fx) {
        return fx.store.get(fx.store.keys().endpoint("web", NodeFixture.HOST), Endpoint.class).map(e -> e.lease())
                .orElse(0L);
    }

    /** Every lease etcd holds (the fixture's etcd serves this one node only), as {@code etcdctl lease list} says. */
    private static Set<Long> leases(NodeFixture fx) throws Exception {
        Process p = new ProcessBuilder("etcdctl", "--endpoints", fx.etcd.endpoint(0), "lease", "list")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError("etcdctl lease list failed: " + out);
        }
        // "found N leases", then one hex id a line
        return out.lines().skip(1).map(String::strip).filter(l -> !l.isEmpty())
                .map(l -> Long.parseUnsignedLong(l, 16)).collect(Collectors.toSet());
    }
}
