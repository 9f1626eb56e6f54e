package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Op;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.RunSpec;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** How a plan is cut into transactions; no etcd is contacted (the client connects lazily). */
class PlanWriterTest {

    @Test
    void batchesStayWithinEtcdsOperationAndSizeLimitsAndEachCarriesTheStamp() {
        try (EtcdStore store = EtcdStore.connect(EtcdConfig.of("http://127.0.0.1:1"))) {
            PlanWriter w = new PlanWriter(store, new Fence("/intent/leader/dispatcher/1", 7), "l1");
            AppIntent fat = Fixtures.app(1);
            fat = new AppIntent(fat.versions(), fat.active(), new RunSpec(List.of("bin/server"),
                    Map.of("BLOB", "x".repeat(60_000)), null), List.of(), 1, null, null, null, null, null, null);
            TreeMap<Slot, Assignment> puts = new TreeMap<>();
            for (int i = 0; i < 100; i++) {
                puts.put(new Slot("h" + i, "fat"), new Assignment("fat", "h" + i, 1, fat));
            }
            for (int i = 0; i < 300; i++) {
                puts.put(new Slot("h" + i, "thin"), new Assignment("thin", "h" + i, 1, Fixtures.app(1)));
            }
            Changes changes = new Changes(puts, List.of(new Slot("h1", "old")), new TreeMap<>(), List.of("gone"));
            List<Op> ops = w.ops(changes);
            assertEquals(402, ops.size());
            List<List<Op>> batches = w.batches(ops);
            int total = 0;
            for (List<Op> b : batches) {
                assertTrue(b.size() <= PlanWriter.MAX_OPS, "ops: " + b.size());
                long bytes = b.stream().mapToLong(o -> o.key().length()
                        + (o instanceof Op.Put p ? p.value().length : 0)).sum();
                assertTrue(bytes <= PlanWriter.MAX_BYTES, "bytes: " + bytes);
                assertEquals("/intent/leader/term", b.get(0).key());
                total += b.size() - 1;
            }
            assertEquals(402, total);
            assertTrue(ops.get(400) instanceof Op.Delete, "deletions come after the puts");
        }
    }
}
