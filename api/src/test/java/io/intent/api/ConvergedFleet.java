package io.intent.api;

import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Op;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A converged fleet written straight to etcd, as the dispatcher and agents would leave it: {@code apps} apps of
 * {@code perApp} instances each spread over {@code hosts} live hosts, every instance assigned and reported READY
 * by every agent. Written in transactions of 100 keys (etcd's default limit is 128 operations).
 */
public final class ConvergedFleet {
    private ConvergedFleet() {
    }

    public static String app(int i) {
        return String.format("app-%04d", i);
    }

    public static String host(int i) {
        return String.format("host-%04d", i);
    }

    /** Writes the fleet; returns how many keys. */
    public static int write(EtcdStore store, int apps, int hosts, int perApp, List<String> agents) {
        var k = store.keys();
        AppIntent intent = Json.read(Fixtures.app("1.0", perApp), AppIntent.class);
        List<Op> ops = new ArrayList<>();
        int[] written = {0};
        Runnable flush = () -> {
            if (!ops.isEmpty()) {
                store.commit(List.copyOf(ops));
                written[0] += ops.size();
                ops.clear();
            }
        };
        java.util.function.Consumer<Op> add = op -> {
            ops.add(op);
            if (ops.size() == 100) {
                flush.run();
            }
        };
        Instant now = Instant.now();
        for (int h = 0; h < hosts; h++) {
            add.accept(Op.put(k.host(host(h)), new HostSpec(Map.of("zone", "z" + (h % 3)), null,
                    "10.0." + (h / 250) + "." + (h % 250), false)));
            add.accept(Op.put(k.live(host(h)), new Liveness(host(h), null, "node", 1000 + h, now)));
        }
        for (int a = 0; a < apps; a++) {
            // etcd numbers every transaction; the intent's own revision is below every assignment written after it
            add.accept(Op.put(k.app(app(a)), intent));
        }
        flush.run();
        long appRevision = store.get(k.app(app(apps - 1)), AppIntent.class).orElseThrow().modRevision();
        for (int a = 0; a < apps; a++) {
            List<String> placed = new ArrayList<>();
            for (int i = 0; i < perApp; i++) {
                placed.add(host((a * perApp + i) % hosts));
            }
            add.accept(Op.put(k.placement(app(a)), new Placement(placed, perApp, appRevision, null)));
            for (String h : placed) {
                add.accept(Op.put(k.assignment(h, app(a)), new Assignment(app(a), h, appRevision, intent)));
                for (String agent : agents) {
                    add.accept(Op.put(k.status(h, app(a), agent), new AgentStatus(agent, Phase.READY, "1.0",
                            appRevision, null, 1, now, null, Map.of())));
                }
            }
        }
        flush.run();
        return written[0];
    }
}
