package io.intent.api.plan;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.intent.api.status.Observed;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Placement;
import io.intent.store.model.Resources;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What applying a set of intents would change: per app the intent diff against etcd, the validation errors, and
 * a placement preview. Pure.
 *
 * <p>The preview is an approximation, not the dispatcher's planner (not available to the API when this was
 * written): a host is eligible when it is registered, live, not drained, carries every required label and has
 * room for the app's resources next to the other apps placed on it; hosts the app already runs on come first,
 * then by preferred-label score and name. Rollout limits (maxUnavailable) are ignored.
 */
public final class Plan {
    /** The whole preview. */
    public record Result(long revision, boolean valid, int changed, List<AppPlan> apps, String note) {
    }

    /** One app's preview. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record AppPlan(String name, String action, List<FieldError> errors, List<IntentDiff.Change> changes,
                          Preview placement) {
    }

    /**
     * Where the app would run.
     *
     * @param eligible how many hosts could take it
     * @param hosts    the hosts it would be placed on
     * @param current  the hosts the dispatcher placed it on now
     * @param pending  why fewer than {@code wanted} hosts, when so
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Preview(int wanted, int eligible, List<String> hosts, List<String> current, String pending) {
    }

    static final String NOTE = "placement is a preview (registered, live, undrained hosts with the required labels"
            + " and free capacity); the dispatcher decides, and rolls out within maxUnavailable";

    private Plan() {
    }

    public static Result preview(Map<String, AppIntent> proposed, Observed o) {
        List<AppPlan> plans = new ArrayList<>();
        boolean valid = true;
        int changed = 0;
        for (var e : new TreeMap<>(proposed).entrySet()) {
            String name = e.getKey();
            AppIntent next = e.getValue();
            Entry<AppIntent> cur = o.apps().get(name);
            List<FieldError> errors = next == null ? List.of(new FieldError("", "intent is null"))
                    : Validation.check(name, next);
            if (!errors.isEmpty()) {
                valid = false;
                plans.add(new AppPlan(name, "invalid", errors, null, null));
                continue;
            }
            AppIntent before = cur != null && cur.valid() ? cur.value() : null;
            List<IntentDiff.Change> changes = IntentDiff.of(before, next);
            String action = cur == null ? "create" : changes.isEmpty() ? "unchanged" : "update";
            if (!action.equals("unchanged")) {
                changed++;
            }
            plans.add(new AppPlan(name, action, null, changes, place(name, next, o)));
        }
        return new Result(o.revision(), valid, changed, plans, NOTE);
    }

    static Preview place(String name, AppIntent app, Observed o) {
        Entry<Placement> pe = o.placements().get(name);
        List<String> current = pe != null && pe.valid() ? pe.value().hosts() : List.of();
        Map<String, Resources> used = used(name, o);
        Resources need = app.resourcesOrDefault();
        List<String> eligible = new ArrayList<>();
        Map<String, String> why = new TreeMap<>();
        for (var h : o.hosts().entrySet()) {
            String reason = ineligible(h.getKey(), h.getValue(), app, need, used, o);
            if (reason == null) {
                eligible.add(h.getKey());
            } else {
                why.put(h.getKey(), reason);
            }
        }
        eligible.sort(Comparator.<String>comparingInt(h -> current.contains(h) ? 0 : 1)
                .thenComparing(h -> -score(o.hosts().get(h).value(), app))
                .thenComparing(h -> h));
        int wanted = app.scaleOrDefault();
        List<String> hosts = eligible.subList(0, Math.min(wanted, eligible.size()));
        String pending = null;
        if (hosts.size() < wanted) {
            pending = "only " + eligible.size() + " of " + wanted + " hosts eligible"
                    + (why.isEmpty() ? "" : ": " + why);
        }
        return new Preview(wanted, eligible.size(), List.copyOf(hosts), current, pending);
    }

    private static String ineligible(String host, Entry<HostSpec> e, AppIntent app, Resources need,
                                     Map<String, Resources> used, Observed o) {
        if (!e.valid()) {
            return "host spec unreadable";
        }
        HostSpec h = e.value();
        if (!o.live().containsKey(host)) {
            return "not live";
        }
        if (h.drainOrDefault()) {
            return "draining";
        }
        for (var l : app.constraintsOrDefault().labels().entrySet()) {
            if (!l.getValue().equals(h.labels().get(l.getKey()))) {
                return "lacks label " + l.getKey() + "=" + l.getValue();
            }
        }
        Resources cap = h.capacityOrDefault();
        Resources u = used.getOrDefault(host, Resources.NONE);
        if (cap.cpu() > 0 && u.cpu() + need.cpu() > cap.cpu() + 1e-9) {
            return "cpu full";
        }
        if (cap.memoryMb() > 0 && u.memoryMb() + need.memoryMb() > cap.memoryMb()) {
            return "memory full";
        }
        return null;
    }

    /** What other apps' placements reserve on each host. */
    private static Map<String, Resources> used(String except, Observed o) {
        Map<String, Resources> used = new HashMap<>();
        o.placements().forEach((app, p) -> {
            Entry<AppIntent> a = o.apps().get(app);
            if (app.equals(except) || !p.valid() || a == null || !a.valid()) {
                return;
            }
            Resources r = a.value().resourcesOrDefault();
            for (String h : p.value().hosts()) {
                used.merge(h, r, (x, y) -> new Resources(x.cpu() + y.cpu(), x.memoryMb() + y.memoryMb()));
            }
        });
        return used;
    }

    private static int score(HostSpec h, AppIntent app) {
        int s = 0;
        for (var p : app.constraintsOrDefault().prefer().entrySet()) {
            if (p.getValue().equals(h.labels().get(p.getKey()))) {
                s++;
            }
        }
        return s;
    }
}
