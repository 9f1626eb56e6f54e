package io.intent.api.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.status.Observed;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Placement;
import io.intent.store.model.Resources;
import io.intent.testkit.Apps;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan preview and the intent diff as pure functions. */
class PlanTest {
    static AppIntent app(String active, int scale, Map<String, String> labels, Resources res) {
        return Apps.app().version("1.0", "file:///a.tgz", "a".repeat(64)).version("2.0", "file:///b.tgz",
                "b".repeat(64)).active(active).command("run").scale(scale).resources(res).labels(labels).build();
    }

    static <T> Entry<T> e(T v) {
        return new Entry<>("k", v, null, null, 5, 5, 0);
    }

    static Observed cluster(Map<String, Entry<AppIntent>> apps, Map<String, Entry<Placement>> placements) {
        Map<String, Entry<HostSpec>> hosts = new HashMap<>();
        Map<String, Entry<Liveness>> live = new HashMap<>();
        hosts.put("a1", e(new HostSpec(Map.of("zone", "a"), new Resources(2, 0), null, false)));
        hosts.put("a2", e(new HostSpec(Map.of("zone", "a"), null, null, true)));
        hosts.put("b1", e(new HostSpec(Map.of("zone", "b"), null, null, false)));
        hosts.put("a3", e(new HostSpec(Map.of("zone", "a"), null, null, false)));
        for (String h : List.of("a1", "a2", "b1")) {
            live.put(h, e(new Liveness(h, null, "x", 1, Instant.EPOCH)));
        }
        return new Observed(9, apps, hosts, live, placements, Map.of(), Map.of());
    }

    @Test
    void thePreviewPlacesOnlyOnLiveUndrainedHostsWithTheLabels() {
        var r = Plan.preview(Map.of("web", app("1.0", 3, Map.of("zone", "a"), null)), cluster(Map.of(), Map.of()));
        var p = r.apps().get(0).placement();
        assertEquals(List.of("a1"), p.hosts());
        assertEquals(3, p.wanted());
        assertTrue(p.pending() != null && !p.pending().isEmpty());
    }

    @Test
    void thePreviewSeesCapacityTakenByAppsAlreadyThere() {
        var other = app("1.0", 1, Map.of("zone", "a"), new Resources(1.5, 0));
        Map<String, Entry<AppIntent>> apps = Map.of("big", e(other));
        var base = cluster(apps, Map.of("big", e(new Placement(List.of("a1"), 1, 5, null))));
        var o = new Observed(base.revision(), base.apps(), base.hosts(), base.live(), base.placements(),
                Map.of("a1", Map.of("big", e(new Assignment("big", "a1", 5, other)))), Map.of());
        var r = Plan.preview(Map.of("web", app("1.0", 1, Map.of("zone", "a"), new Resources(1, 0))), o);
        assertEquals(List.of(), r.apps().get(0).placement().hosts());
        assertTrue(r.apps().get(0).placement().pending() != null);
    }

    @Test
    void theDiffNamesChangedFieldsAndAnUnchangedIntentHasNone() {
        var before = app("1.0", 1, Map.of(), null);
        assertEquals(List.of(), IntentDiff.of(before, before));
        var changes = IntentDiff.of(before, app("2.0", 3, Map.of(), null));
        assertEquals(List.of("active", "scale"), changes.stream().map(IntentDiff.Change::path).toList());
        assertEquals("1.0", changes.get(0).from().asText());
        assertEquals("2.0", changes.get(0).to().asText());
        var created = IntentDiff.of(null, before);
        assertEquals(1, created.size());
        assertNull(created.get(0).from());
    }

    @Test
    void thePlanMarksCreateUpdateUnchangedAndInvalid() {
        var cur = app("1.0", 1, Map.of(), null);
        var o = cluster(Map.of("same", e(cur), "upd", e(cur)), Map.of());
        var r = Plan.preview(Map.of("same", cur, "upd", app("2.0", 1, Map.of(), null),
                "new", cur, "bad", app("7.0", 1, Map.of(), null)), o);
        Map<String, String> actions = new HashMap<>();
        r.apps().forEach(a -> actions.put(a.name(), a.action()));
        assertEquals(Map.of("same", "unchanged", "upd", "update", "new", "create", "bad", "invalid"), actions);
        assertEquals(2, r.changed());
        assertEquals(false, r.valid());
    }
}
