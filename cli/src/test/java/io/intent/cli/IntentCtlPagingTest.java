package io.intent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.api.ApiServer;
import io.intent.api.Role;
import io.intent.api.Tokens;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.testkit.EtcdCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code intentctl get status|assignments} follow the API's pages: a long list comes back whole. */
class IntentCtlPagingTest {
    static final String VIEWER = "viewer-secret-paging";

    @Test
    void getStatusAndGetAssignmentsFollowEveryPage() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()))) {
            var tokens = new Tokens(Map.of(Tokens.hash(VIEWER), new Tokens.Token("v", Role.VIEWER, "test")));
            ApiServer api = ApiServer.start(store, tokens, ApiServer.Options.defaults().withPort(0)
                    .withExpectedAgents(List.of("setlive")));
            try {
                // 300 apps of 2 instances on 300 hosts: 600 status items and 600 assignments, over the 500 a page
                var k = store.keys();
                AppIntent intent = Json.read("{\"versions\":{\"1.0\":{\"artifact\":\"file:///srv/a.tgz\",\"sha256\":\""
                        + "a".repeat(64) + "\"}},\"active\":\"1.0\",\"run\":{\"command\":[\"bin/run\"]},\"scale\":2}",
                        AppIntent.class);
                List<Op> ops = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    ops.add(Op.put(k.app("a" + i), intent));
                    ops.add(Op.put(k.host("h" + i), new HostSpec(Map.of(), null, null, false)));
                    ops.add(Op.put(k.live("h" + i), new Liveness("h" + i, null, "t", 1, Instant.now())));
                    flush(store, ops, 99);
                }
                flush(store, ops, 0);
                long rev = store.revision();
                for (int i = 0; i < 300; i++) {
                    List<String> hosts = List.of("h" + i, "h" + (i + 1) % 300);
                    ops.add(Op.put(k.placement("a" + i), new Placement(hosts, 2, rev, null)));
                    for (String h : hosts) {
                        ops.add(Op.put(k.assignment(h, "a" + i), new Assignment("a" + i, h, rev, intent)));
                        ops.add(Op.put(k.status(h, "a" + i, "setlive"), new AgentStatus("setlive", Phase.READY,
                                "1.0", rev, null, 0, Instant.now(), null, Map.of())));
                    }
                    flush(store, ops, 95);
                }
                flush(store, ops, 0);

                await().atMost(Duration.ofSeconds(20)).until(() -> json(run(api, "get", "status", "-o", "json"))
                        .path("apps").size() == 300);
                JsonNode status = json(run(api, "get", "status", "-o", "json"));
                Set<String> hosts = new HashSet<>();
                status.path("hosts").forEach(h -> hosts.add(h.path("host").asText()));
                assertEquals(300, hosts.size(), "every host once");
                assertEquals(300, status.path("hosts").size());
                assertFalse(status.has("continue"));
                String table = run(api, "get", "status");
                assertEquals(300, table.lines().filter(l -> l.matches("a\\d+ +OK .*")).count(), table);
                assertEquals(600, table.lines().filter(l -> l.matches(" +h\\d+ +OK .*")).count(), table);

                JsonNode assignments = json(run(api, "get", "assignments", "-o", "json"));
                assertEquals(600, assignments.path("assignments").size());
            } finally {
                api.close();
            }
        }
    }

    private static void flush(EtcdStore store, List<Op> ops, int over) {
        if (ops.size() > over) {
            store.commit(List.copyOf(ops));
            ops.clear();
        }
    }

    private static JsonNode json(String out) {
        return Json.tree(out.getBytes());
    }

    private static String run(ApiServer api, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--api=" + api.url());
        all.add("--token=" + VIEWER);
        Ctl.Run r = Ctl.run(all.toArray(String[]::new));
        assertEquals(0, r.code(), () -> r.out() + "\n" + r.err());
        return r.out();
    }
}
