package io.intent.dispatcher;

import io.intent.store.codec.FieldError;
import io.intent.store.codec.Json;
import io.intent.store.codec.Validation;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Decides which hosts run which apps: a pure, deterministic function from {@link PlanInput} to {@link Plan}.
 *
 * <p>The rules, in the order they are applied:
 * <ol>
 *   <li><b>Invalid apps are frozen.</b> An app whose value does not decode, fails {@link Validation}, or whose
 *       assignment would exceed the store's value limit gets a pending placement with the reason. Its existing
 *       assignments stay exactly as stored (an operator's typo never takes a running app down) and still count
 *       against their hosts' capacity and ports; nothing of it is added or moved until the intent is fixed.
 *       It never blocks any other app.</li>
 *   <li><b>Stable.</b> Every existing instance of a valid app stays where it is when it can: the host still has
 *       a spec, is not draining, is live or within its grace period, carries the app's hard labels, has room
 *       (cpu, memory) and no other app holds one of the app's ports there. Stateful apps are considered first,
 *       then apps by name, then hosts by name. Nothing is ever moved to "rebalance".</li>
 *   <li><b>Scale down from the most loaded host.</b> When an app has more keepable instances than its scale, the
 *       ones on the hosts most loaded before this plan (highest capacity fraction, then most instances, then
 *       host name) are removed first.</li>
 *   <li><b>Replace before remove.</b> An instance on a dead host (past its grace period) that is being
 *       evacuated no longer counts towards the app's scale, so a replacement is placed on a live host; but its
 *       assignment stays until the app has {@code scale} instances on live hosts that setlive reports healthy
 *       ({@link PlanInput#healthy()}). If no host can take a replacement, it stays, and the placement says
 *       {@code host h1 unreachable for 47 s; no other host fits}. A dead host that is {@link PlanInput#held()}
 *       (disruption mode, rate limit: see {@link Evacuation}) keeps its instances like a host in grace, and so does
 *       a host whose spec is unreadable. When scaling down, instances not reported healthy go first.</li>
 *   <li><b>Sticky stateful apps.</b> An instance of a {@code stateful} app stays on a host that is dead (past
 *       its grace period): its data is there. The placement is pending with a reason naming the host, and no
 *       replacement is started. Draining the host, deleting its spec, or a label change that excludes it are
 *       the operator's ways to move it; drain empties a host of stateful apps too.</li>
 *   <li><b>Place what is missing</b> on hosts that are live now (never on one in grace), not draining, not
 *       already running the app, carrying every hard label, with room and free ports. Among those the best host
 *       has the most matching soft {@code prefer} labels, then the lowest load (highest of cpu and memory used as
 *       a fraction of capacity), then the fewest instances, then the smallest name: instances spread onto the
 *       least-loaded hosts and ties never depend on map order.</li>
 *   <li><b>Move a sick instance</b> ({@link PlanInput#moves()}, decided by {@link Reschedule}): its host is
 *       not kept and not chosen for the app, so the instance is placed on another host that fits; the placement
 *       records the move ({@link Placement#rescheduled()}). When no other host fits it stays where it is, and the
 *       placement says so.</li>
 *   <li><b>Capacity is never exceeded</b> by a plan: a host without a {@code capacity} is unlimited; with one,
 *       the sum of the resources of its instances stays within it (only frozen instances, which the planner
 *       cannot move, may already exceed it, and then nothing is added there).</li>
 * </ol>
 *
 * <p>Every app gets a {@link Placement}: its hosts, the wanted scale, the app revision, and when fewer than
 * {@code scale} instances could be placed a reason counting why the other hosts were unsuitable. Planning an
 * input whose current assignments equal a previous plan's output yields the same plan (idempotent).
 */
// Over 300 lines: the rules above are one pass over shared tallies (the next assignments, the hosts' loads, the
// hosts to avoid), each rule a method of Run; what has no tally of its own lives apart (HostLoad, PlacementReasons).
public final class Planner {
    /** Room left for the assignment envelope (app, host, revision) around the copied intent. */
    private static final int ENVELOPE_BYTES = 1024;

    private Planner() {
    }

    public static Plan plan(PlanInput in) {
        return new Run(in).plan();
    }

    /** One planning pass; holds the tallies while the plan is built. */
    private static final class Run {
        private final PlanInput in;
        private final SortedMap<String, HostLoad> hosts = new TreeMap<>();
        private final Map<String, Double> loadBefore = new HashMap<>();
        private final Map<String, Integer> countBefore = new HashMap<>();
        private final Map<String, List<Slot>> currentByApp = new HashMap<>();
        private final SortedMap<Slot, Assignment> next = new TreeMap<>();
        private final SortedMap<String, Placement> placements = new TreeMap<>();
        /** Hosts that can take new instances, least loaded first; a host is re-inserted whenever its load changes. */
        /** Per app, the host a sick instance is being moved off, and the moves this plan made. */
        private final Map<String, String> avoid = new HashMap<>();
        private final Map<String, Placement.Rescheduled> moved = new HashMap<>();
        private final Map<String, String> stuck = new HashMap<>();
        private final PlacementReasons reasons;
        private final TreeSet<HostLoad> byLoad = new TreeSet<>(Comparator.comparingDouble((HostLoad h) -> h.load)
                .thenComparingInt(h -> h.count).thenComparing(h -> h.name));

        Run(PlanInput in) {
            this.in = in;
            this.reasons = new PlacementReasons(in, hosts);
            in.moves().forEach((slot, move) -> {
                if (in.current().containsKey(slot)) {
                    avoid.putIfAbsent(slot.app(), slot.host());
                }
            });
            // a sick instance moved by an earlier plan that still runs on its host (its replacement is not healthy
            // yet) is still moving away: its host is neither kept nor chosen for the app
            in.lastMoves().forEach((app, last) -> {
                if (last.leavingOrDefault() && in.current().containsKey(new Slot(last.from(), app))) {
                    avoid.putIfAbsent(app, last.from());
                }
            });
            in.hosts().forEach((name, spec) -> hosts.put(name, new HostLoad(name, spec, in.live().contains(name),
                    in.graced().contains(name), in.held().get(name))));
            for (String name : in.unreadable()) {
                if (!in.hosts().containsKey(name)) {
                    hosts.put(name, new HostLoad(name, null, in.live().contains(name), in.graced().contains(name),
                            null));
                }
            }
            Map<String, HostLoad> before = new HashMap<>();
            hosts.forEach((name, h) -> before.put(name, new HostLoad(name, h.spec, false, false, null)));
            for (var e : in.current().entrySet()) {
                currentByApp.computeIfAbsent(e.getKey().app(), k -> new ArrayList<>()).add(e.getKey());
                HostLoad h = before.get(e.getKey().host());
                if (h != null && e.getValue() != null && e.getValue().intent() != null) {
                    h.add(e.getKey().app(), e.getValue().intent());
                }
            }
            before.forEach((name, h) -> {
                loadBefore.put(name, h.load);
                countBefore.put(name, h.count);
            });
        }

        Plan plan() {
            List<PlanInput.App> valid = new ArrayList<>();
            Map<String, String> problems = new LinkedHashMap<>();
            for (PlanInput.App app : in.apps().values()) {
                String problem = problem(app);
                if (problem == null) {
                    valid.add(app);
                } else {
                    problems.put(app.name(), problem);
                }
            }
            problems.forEach(this::freeze);
            // stateful apps first: they are the ones that must not be squeezed off their host
            valid.sort(Comparator.comparing((PlanInput.App a) -> !a.intent().statefulOrDefault())
                    .thenComparing(PlanInput.App::name));
            Map<String, List<String>> kept = new HashMap<>();
            Map<String, List<HostLoad>> leaving = new HashMap<>();
            for (PlanInput.App app : valid) {
                List<HostLoad> gone = new ArrayList<>();
                kept.put(app.name(), keep(app, gone));
                leaving.put(app.name(), gone);
            }
            hosts.values().stream().filter(h -> h.live && !h.draining() && h.spec != null).forEach(byLoad::add);
            Map<String, TreeSet<String>> placed = new HashMap<>();
            Map<String, List<String>> stay = new HashMap<>();
            for (PlanInput.App app : valid) {
                TreeSet<String> on = place(app, kept.get(app.name()), leaving.get(app.name()));
                placed.put(app.name(), on);
                stay.put(app.name(), replaceBeforeRemove(app, on, leaving.get(app.name())));
            }
            for (PlanInput.App app : valid) {
                report(app, placed.get(app.name()), stay.get(app.name()));
            }
            return new Plan(next, placements);
        }

        private static String problem(PlanInput.App app) {
            if (app.error() != null || app.intent() == null) {
                return "invalid intent: " + (app.error() == null ? "no value" : app.error());
            }
            List<FieldError> errs = Validation.check(app.name(), app.intent());
            if (!errs.isEmpty()) {
                return "invalid intent: " + errs.stream().map(FieldError::toString).collect(Collectors.joining("; "));
            }
            if (app.intent().active() == null) {
                // valid only while following a channel: the leader's channel follower names the version
                return "waiting for channel " + app.intent().channel().follow() + " to name a version";
            }
            int size = Json.write(app.intent()).length + ENVELOPE_BYTES;
            if (size > Json.MAX_VALUE_BYTES) {
                return "invalid intent: its assignment would be about " + size + " bytes, over the store's limit of "
                        + Json.MAX_VALUE_BYTES;
            }
            return null;
        }

        /** Keeps an invalid app's assignments exactly as stored and reports why it is pending. */
        private void freeze(String app, String problem) {
            List<String> on = new ArrayList<>();
            for (Slot s : currentByApp.getOrDefault(app, List.of())) {
                Assignment a = in.current().get(s);
                next.put(s, a);
                on.add(s.host());
                HostLoad h = hosts.get(s.host());
                if (h != null && a != null && a.intent() != null) {
                    h.add(app, a.intent());
                }
            }
            PlanInput.App entry = in.apps().get(app);
            int wanted = entry.intent() != null && entry.intent().scale() != null ? entry.intent().scaleOrDefault()
                    : on.size();
            String why = problem + (on.isEmpty() ? "" : "; its " + on.size()
                    + " current instance(s) are left unchanged until the intent is fixed");
            placements.put(app, new Placement(on, wanted, entry.revision(), why,
                    entry.intent() == null ? null : entry.intent().channel(), in.lastMoves().get(app)));
        }

        /**
         * Returns the hosts on which the app's existing instances stay and count towards its scale, and records
         * their assignments. Instances on dead hosts that are being evacuated go to {@code leaving} instead: they
         * do not count, but are removed only once their replacements are healthy ({@link #replaceBeforeRemove}).
         */
        private List<String> keep(PlanInput.App app, List<HostLoad> leaving) {
            AppIntent intent = app.intent();
            List<HostLoad> candidates = new ArrayList<>();
            for (Slot s : currentByApp.getOrDefault(app.name(), List.of())) {
                HostLoad h = hosts.get(s.host());
                if (h == null || h.draining() || !h.hasLabels(intent)) {
                    continue;
                }
                if (h.name.equals(avoid.get(app.name()))) {
                    // a sick instance being moved: like one on an evacuated host, it goes once its replacement
                    // runs healthy (it may still serve meanwhile)
                    leaving.add(h);
                    continue;
                }
                if (h.live || h.graced || h.held != null || h.spec == null || intent.statefulOrDefault()) {
                    candidates.add(h);
                } else {
                    leaving.add(h);
                }
            }
            int scale = intent.scaleOrDefault();
            if (candidates.size() > scale) {
                // instances reported healthy go last, then the most loaded hosts lose theirs first
                candidates.sort(Comparator.comparing((HostLoad h) -> healthy(h.name, app.name()))
                        .thenComparing((HostLoad h) -> -loadBefore.get(h.name))
                        .thenComparing(h -> -countBefore.get(h.name))
                        .thenComparing(h -> h.name));
                candidates = new ArrayList<>(candidates.subList(candidates.size() - scale, candidates.size()));
            }
            candidates.sort(Comparator.comparing(h -> h.name));
            List<String> kept = new ArrayList<>();
            for (HostLoad h : candidates) {
                if (h.fits(intent) && h.portTakenBy(app.name(), intent) == null) {
                    h.add(app.name(), intent);
                    next.put(new Slot(h.name, app.name()), new Assignment(app.name(), h.name, app.revision(), intent));
                    kept.add(h.name);
                }
            }
            return kept;
        }

        /**
         * Places the instances the app still lacks; returns the hosts it is on. Placing one instance changes only
         * the chosen host's load, and that host is then excluded for this app (one instance per host), so the
         * best {@code k} hosts of one ordered pass are exactly what {@code k} one-at-a-time choices would pick.
         * Without soft preferences the pass walks {@link #byLoad} from the least-loaded host and usually stops
         * after a few hosts; with preferences every eligible host is scored.
         */
        private TreeSet<String> place(PlanInput.App app, List<String> kept, List<HostLoad> leaving) {
            AppIntent intent = app.intent();
            int need = intent.scaleOrDefault() - kept.size();
            TreeSet<String> on = new TreeSet<>(kept);
            String away = avoid.get(app.name());
            if (away != null) {
                // the host it kept failing on is no candidate, unless nothing else fits (below)
                on.add(away);
            }
            if (need <= 0) {
                if (away != null) {
                    on.remove(away);
                }
                return on;
            }
            List<HostLoad> chosen = choose(app.name(), intent, need, on);
            for (HostLoad h : chosen) {
                byLoad.remove(h);
                h.add(app.name(), intent);
                byLoad.add(h);
                on.add(h.name);
                next.put(new Slot(h.name, app.name()), new Assignment(app.name(), h.name, app.revision(), intent));
            }
            if (away != null) {
                on.remove(away);
                settleMove(app, away, chosen, on, leaving);
            }
            return on;
        }

        /** The best {@code need} hosts for a new instance each, in one ordered pass (see {@link #place}). */
        private List<HostLoad> choose(String app, AppIntent intent, int need, TreeSet<String> on) {
            List<HostLoad> chosen = new ArrayList<>(need);
            if (intent.constraintsOrDefault().prefer().isEmpty()) {
                for (HostLoad h : byLoad) {
                    if (h.rejection(app, intent, on) == null) {
                        chosen.add(h);
                        if (chosen.size() == need) {
                            break;
                        }
                    }
                }
                return chosen;
            }
            List<HostLoad> eligible = new ArrayList<>();
            for (HostLoad h : byLoad) {
                if (h.rejection(app, intent, on) == null) {
                    eligible.add(h);
                }
            }
            // byLoad order is kept among hosts with the same number of matching preferences (stable sort)
            eligible.sort(Comparator.comparingInt((HostLoad h) -> -h.preferMatches(intent)));
            chosen.addAll(eligible.subList(0, Math.min(need, eligible.size())));
            return chosen;
        }

        /**
         * Records where a sick instance moved off {@code away} went; when no other host took it, it stays where it
         * is, sick or not, as an ordinary instance (if it still fits there).
         */
        private void settleMove(PlanInput.App app, String away, List<HostLoad> chosen, TreeSet<String> on,
                                List<HostLoad> leaving) {
            Reschedule.Move move = in.moves().get(new Slot(away, app.name()));
            if (move == null) {
                return;
            }
            AppIntent intent = app.intent();
            String to = chosen.stream().map(h -> h.name).sorted().findFirst().orElse(null);
            HostLoad back = hosts.get(away);
            if (to != null) {
                moved.put(app.name(), new Placement.Rescheduled(away, to, move.at(), move.reason()));
            } else if (back != null && back.fits(intent) && back.portTakenBy(app.name(), intent) == null) {
                leaving.removeIf(h -> h.name.equals(away));
                back.add(app.name(), intent);
                on.add(away);
                next.put(new Slot(away, app.name()), new Assignment(app.name(), away, app.revision(), intent));
                stuck.put(app.name(), "instance on " + away + " is sick (" + move.reason()
                        + "); no other host fits, so it stays");
            }
        }

        private boolean healthy(String host, String app) {
            return in.healthy().contains(new Slot(host, app));
        }

        /**
         * Keeps as many instances on evacuated dead hosts as the app lacks healthy instances elsewhere, so an
         * instance is removed only once its replacement runs healthy (or was never needed); returns their hosts.
         * Which ones stay is decided by name, so planning the plan's output gives the same plan.
         */
        private List<String> replaceBeforeRemove(PlanInput.App app, TreeSet<String> on, List<HostLoad> leaving) {
            if (leaving.isEmpty()) {
                return List.of();
            }
            long healthyOn = on.stream().filter(h -> hosts.get(h).live && healthy(h, app.name())).count();
            int keepN = (int) Math.max(0, app.intent().scaleOrDefault() - healthyOn);
            List<String> stay = new ArrayList<>();
            leaving.sort(Comparator.comparing(h -> h.name));
            for (HostLoad h : leaving) {
                // the same test a kept instance passes: a dead host is no excuse to exceed its capacity
                if (stay.size() == keepN || !h.fits(app.intent()) || h.portTakenBy(app.name(), app.intent()) != null) {
                    continue;
                }
                h.add(app.name(), app.intent());
                next.put(new Slot(h.name, app.name()), new Assignment(app.name(), h.name, app.revision(),
                        app.intent()));
                stay.add(h.name);
            }
            return stay;
        }

        /**
         * Records the app's placement. The reason for a shortfall is worked out against the finished plan, not
         * the moment the placement gave up, so planning the plan's own output gives the same words.
         */
        private void report(PlanInput.App app, TreeSet<String> on, List<String> stay) {
            int scale = app.intent().scaleOrDefault();
            Placement.Rescheduled last = moved.getOrDefault(app.name(), in.lastMoves().get(app.name()));
            String sickHost = avoid.get(app.name());
            String reason = reasons.reason(app, on, stay, last, sickHost, stuck.get(app.name()));
            if (last != null) {
                last = last.withLeaving(stay.contains(last.from()) && last.from().equals(sickHost));
            }
            TreeSet<String> all = new TreeSet<>(on);
            all.addAll(stay);
            placements.put(app.name(), new Placement(List.copyOf(all), scale, app.revision(), reason,
                    app.intent().channel(), last));
        }
    }
}
