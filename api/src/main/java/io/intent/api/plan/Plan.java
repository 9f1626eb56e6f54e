package io.intent.api.plan;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.intent.api.status.Observed;
import io.intent.dispatcher.PlanInput;
import io.intent.dispatcher.Planner;
import io.intent.dispatcher.Slot;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Placement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What applying a set of intents would change: per app the intent diff against etcd, the validation errors, and
 * where the dispatcher's own {@link Planner} would place it. Pure.
 *
 * <p>The preview runs the planner over the observed snapshot with the proposed intents in place of the stored
 * ones, every other app unchanged. Hosts that are not live are treated as past their grace period (the planner
 * moves instances off them), and the rollout (maxUnavailable) that paces the change is not simulated.
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
     * @param hosts   the hosts the planner would place it on
     * @param current the hosts the dispatcher placed it on now
     * @param pending why fewer than {@code wanted} hosts, when so
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Preview(int wanted, List<String> hosts, List<String> current, String pending) {
    }

    static final String NOTE = "placement is the dispatcher's planner run on the current snapshot with these intents;"
            + " hosts that are not live count as gone, and the rollout pace (maxUnavailable) is not shown";

    private Plan() {
    }

    public static Result preview(Map<String, AppIntent> proposed, Observed o) {
        List<AppPlan> plans = new ArrayList<>();
        boolean valid = true;
        int changed = 0;
        Map<String, AppIntent> placeable = new HashMap<>();
        Map<String, AppPlan> partial = new TreeMap<>();
        for (var e : new TreeMap<>(proposed).entrySet()) {
            String name = e.getKey();
            AppIntent next = e.getValue();
            Entry<AppIntent> cur = o.apps().get(name);
            List<FieldError> errors = next == null ? List.of(new FieldError("", "intent is null"))
                    : Validation.check(name, next);
            if (!errors.isEmpty()) {
                valid = false;
                partial.put(name, new AppPlan(name, "invalid", errors, null, null));
                continue;
            }
            AppIntent before = cur != null && cur.valid() ? cur.value() : null;
            List<IntentDiff.Change> changes = IntentDiff.of(before, next);
            String action = cur == null ? "create" : changes.isEmpty() ? "unchanged" : "update";
            if (!action.equals("unchanged")) {
                changed++;
            }
            placeable.put(name, next);
            partial.put(name, new AppPlan(name, action, null, changes, null));
        }
        Map<String, Placement> placed = place(placeable, o);
        for (AppPlan p : partial.values()) {
            Placement next = placed.get(p.name());
            if (next == null) {
                plans.add(p);
                continue;
            }
            Entry<Placement> now = o.placements().get(p.name());
            List<String> current = now != null && now.valid() ? now.value().hosts() : List.of();
            plans.add(new AppPlan(p.name(), p.action(), null, p.changes(),
                    new Preview(next.wanted(), next.hosts(), current, next.pendingReason())));
        }
        return new Result(o.revision(), valid, changed, plans, NOTE);
    }

    /** The planner's placements with {@code proposed} replacing the stored intents of those apps. */
    static Map<String, Placement> place(Map<String, AppIntent> proposed, Observed o) {
        List<PlanInput.App> apps = new ArrayList<>();
        o.apps().forEach((name, e) -> {
            if (!proposed.containsKey(name)) {
                apps.add(e.valid() ? PlanInput.App.valid(name, e.value(), e.modRevision())
                        : PlanInput.App.broken(name, e.modRevision(), e.error()));
            }
        });
        proposed.forEach((name, intent) -> apps.add(PlanInput.App.valid(name, intent, o.revision() + 1)));
        Map<String, HostSpec> hosts = new HashMap<>();
        o.hosts().forEach((name, e) -> {
            if (e.valid()) {
                hosts.put(name, e.value());
            }
        });
        Map<Slot, Assignment> current = new HashMap<>();
        o.assignments().forEach((host, byApp) -> byApp.forEach((app, e) -> current.put(new Slot(host, app),
                e.valid() ? e.value() : null)));
        var plan = Planner.plan(PlanInput.of(apps, hosts, new HashSet<>(o.live().keySet()), Set.of(), current));
        return plan.placements();
    }
}
