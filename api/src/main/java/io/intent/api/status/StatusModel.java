package io.intent.api.status;

import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Joins desired with observed state into per-app, per-host and per-agent {@link State}s: a pure function of an
 * {@link Observed} snapshot and the names of the agents every host is expected to run.
 *
 * <p>Rules, per agent: no report, or a report about an older assignment revision, is PREPARING (the agent has
 * not caught up); FAILED is FAILED with its message and attempts; WAITING and PROGRESSING are PREPARING with the
 * agent's details as progress; READY with a version other than the active one is VERSION_MISMATCH; READY
 * otherwise is OK. A host is the worst of its agents, FAILED when it is not live, PENDING when its assignment
 * is older than the intent. An app is the worst of its placed hosts and of its placement: PENDING with the
 * dispatcher's reason, PENDING while the placement is older than the intent, FAILED when the intent is invalid.
 */
// Long (about 340 lines): one pure function from what etcd holds to app, host and agent states; its parts
// (placement verdict, host state, agent state, progress) are small methods that share the expected agents.
public final class StatusModel {
    private final List<String> expectedAgents;

    /** @param expectedAgents the agents every host runs; an agent that never reports keeps a host PREPARING */
    public StatusModel(List<String> expectedAgents) {
        this.expectedAgents = List.copyOf(expectedAgents);
    }

    /**
     * The dispatcher's disruption mode as its placements state it ({@code disruption mode: 3 of 3 hosts
     * unreachable (over 55 %); …}), or null when no placement says so: while it holds, nothing moves off an
     * unreachable host.
     */
    public String disruption(Observed o) {
        for (Entry<Placement> p : o.placements().values()) {
            String why = p.valid() ? p.value().pendingReason() : null;
            int at = why == null ? -1 : why.indexOf(DISRUPTION);
            if (at >= 0) {
                int end = why.indexOf(" until more are back", at);
                return end < 0 ? why.substring(at) : why.substring(at, end + " until more are back".length());
            }
        }
        return null;
    }

    private static final String DISRUPTION = "disruption mode: ";

    /**
     * Who is where, both ways, built once per snapshot: without it the status of every app scans every host and
     * the status of every host scans every placement (10^7 steps at 1,000 apps on 1,000 hosts).
     *
     * @param assignedHosts app -> hosts it is assigned to
     * @param placedApps    host -> apps placed on it
     */
    private record Index(Map<String, java.util.Set<String>> assignedHosts, Map<String, java.util.Set<String>> placedApps) {
        static Index of(Observed o) {
            Map<String, java.util.Set<String>> assigned = new java.util.HashMap<>();
            o.assignments().forEach((host, apps) -> apps.keySet().forEach(app ->
                    assigned.computeIfAbsent(app, x -> new TreeSet<>()).add(host)));
            Map<String, java.util.Set<String>> placed = new java.util.HashMap<>();
            o.placements().forEach((app, p) -> {
                if (p.valid()) {
                    p.value().hosts().forEach(host -> placed.computeIfAbsent(host, x -> new TreeSet<>()).add(app));
                }
            });
            return new Index(assigned, placed);
        }
    }

    /** The state of every app in the intent, by name. */
    public List<AppState> apps(Observed o) {
        Index index = Index.of(o);
        return o.apps().keySet().stream().sorted().map(name -> app(name, o, index)).toList();
    }

    /** The state of one app, or null when there is no intent for it. */
    public AppState app(String name, Observed o) {
        return app(name, o, null);
    }

    private AppState app(String name, Observed o, Index index) {
        Entry<AppIntent> entry = o.apps().get(name);
        if (entry == null) {
            return null;
        }
        if (!entry.valid()) {
            return new AppState(name, State.FAILED, "intent is unreadable: " + entry.error(), null, 0, 0,
                    entry.modRevision(), null, false, List.of());
        }
        AppIntent intent = entry.value();
        List<FieldError> errors = Validation.check(name, intent);
        if (!errors.isEmpty()) {
            String why = errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
            return new AppState(name, State.FAILED, "invalid intent: " + why, intent.active(),
                    intent.scaleOrDefault(), 0, entry.modRevision(), null, false, List.of());
        }
        int wanted = intent.scaleOrDefault();
        Entry<Placement> pe = o.placements().get(name);
        Placement placement = pe != null && pe.valid() ? pe.value() : null;

        Verdict placed = placementVerdict(entry, pe, placement, wanted);
        State state = placed.state();
        String message = placed.message();
        String pendingReason = placed.pendingReason();

        List<String> placedHosts = placement == null ? List.of() : placement.hosts();
        List<HostState> hosts = new ArrayList<>();
        int ready = 0;
        for (String host : hostNames(name, placedHosts, o, index)) {
            HostState hs = host(name, entry, host, placedHosts.contains(host), o);
            hosts.add(hs);
            if (hs.placed() && hs.state() == State.OK) {
                ready++;
            }
            State counted = hs.placed() ? hs.state() : State.PENDING;
            if (counted.ordinal() > state.ordinal()) {
                state = counted;
                message = hs.placed() ? host + ": " + hs.message() : host + ": leaving (still assigned)";
            }
        }
        if (state == State.OK && ready < wanted) {
            state = State.PENDING;
            message = ready + " of " + wanted + " instances placed";
        }
        boolean converged = state == State.OK && ready == wanted;
        return new AppState(name, state, message, intent.active(), wanted, ready, entry.modRevision(), pendingReason,
                converged, hosts);
    }

    /** What an app's state is before its hosts are looked at: an unreadable, missing or stale placement. */
    private record Verdict(State state, String message, String pendingReason) {
    }

    private static Verdict placementVerdict(Entry<AppIntent> entry, Entry<Placement> pe, Placement placement,
                                            int wanted) {
        if (pe != null && !pe.valid()) {
            return new Verdict(State.FAILED, "placement is unreadable: " + pe.error(), null);
        }
        String pending = null;
        if (placement == null) {
            pending = wanted > 0 ? "not placed yet: waiting for the dispatcher" : null;
        } else if (placement.appRevision() < entry.modRevision()) {
            pending = "the dispatcher has not placed revision " + entry.modRevision() + " yet (placement is of "
                    + placement.appRevision() + ")";
        } else if (placement.pendingReason() != null) {
            pending = placement.pendingReason();
        }
        return pending == null ? new Verdict(State.OK, null, null) : new Verdict(State.PENDING, pending, pending);
    }

    /** The hosts the app is placed on, and those that still hold an assignment of it. */
    private static TreeSet<String> hostNames(String name, List<String> placedHosts, Observed o, Index index) {
        TreeSet<String> hostNames = new TreeSet<>(placedHosts);
        if (index != null) {
            hostNames.addAll(index.assignedHosts().getOrDefault(name, java.util.Set.of()));
        } else {
            o.assignments().forEach((host, apps) -> {
                if (apps.containsKey(name)) {
                    hostNames.add(host);
                }
            });
        }
        return hostNames;
    }

    /** The per-host view of every registered, live or assigned host. */
    public List<HostStatus> hosts(Observed o) {
        TreeSet<String> names = new TreeSet<>(o.hosts().keySet());
        names.addAll(o.live().keySet());
        names.addAll(o.assignments().keySet());
        o.placements().values().forEach(p -> {
            if (p.valid()) {
                names.addAll(p.value().hosts());
            }
        });
        Index index = Index.of(o);
        return names.stream().map(h -> host(h, o, index)).toList();
    }

    /** One host: every app placed on it or assigned to it. */
    public HostStatus host(String host, Observed o) {
        return host(host, o, null);
    }

    private HostStatus host(String host, Observed o, Index index) {
        Entry<HostSpec> spec = o.hosts().get(host);
        boolean drain = spec != null && spec.valid() && spec.value().drainOrDefault();
        String address = spec != null && spec.valid() ? spec.value().address() : null;
        boolean live = o.live().containsKey(host);
        TreeSet<String> apps = new TreeSet<>(o.assignments().getOrDefault(host, Map.of()).keySet());
        if (index != null) {
            apps.addAll(index.placedApps().getOrDefault(host, java.util.Set.of()));
        } else {
            o.placements().forEach((app, p) -> {
                if (p.valid() && p.value().hosts().contains(host)) {
                    apps.add(app);
                }
            });
        }
        List<HostState> states = new ArrayList<>();
        State worst = live || (spec == null && apps.isEmpty()) ? State.OK : State.FAILED;
        for (String app : apps) {
            Entry<AppIntent> entry = o.apps().get(app);
            Entry<Placement> pe = o.placements().get(app);
            boolean placed = pe != null && pe.valid() && pe.value().hosts().contains(host);
            HostState hs;
            if (entry == null || !entry.valid()) {
                hs = new HostState(app, host, State.PENDING, entry == null ? "app deleted: being removed"
                        : "intent is unreadable", live, placed, assignedRevision(o, host, app), null, null, List.of());
            } else {
                hs = host(app, entry, host, placed, o);
            }
            states.add(hs);
            worst = worst.worst(hs.state());
        }
        return new HostStatus(host, worst, live, drain, spec != null, address, states);
    }

    private static long assignedRevision(Observed o, String host, String app) {
        Entry<Assignment> a = o.assignments().getOrDefault(host, Map.of()).get(app);
        return a != null && a.valid() ? a.value().appRevision() : 0;
    }

    /** One app on one host. */
    HostState host(String app, Entry<AppIntent> entry, String host, boolean placed, Observed o) {
        AppIntent intent = entry.value();
        boolean live = o.live().containsKey(host);
        Entry<Assignment> ae = o.assignments().getOrDefault(host, Map.of()).get(app);
        Map<String, Entry<AgentStatus>> reports = o.statuses().getOrDefault(host, Map.of()).getOrDefault(app, Map.of());

        if (ae == null) {
            return new HostState(app, host, State.PENDING, "placed, assignment not written yet", live, placed, 0, null,
                    null, List.of());
        }
        if (!ae.valid()) {
            return new HostState(app, host, State.FAILED, "assignment is unreadable: " + ae.error(), live, placed, 0,
                    null, null, List.of());
        }
        long assigned = ae.value().appRevision();
        List<AgentState> agents = agents(intent.active(), assigned, reports);
        String version = version(agents);
        if (!live) {
            return new HostState(app, host, State.FAILED, "host " + host + " is not live", false, placed, assigned,
                    version, null, agents);
        }
        if (assigned < entry.modRevision()) {
            return new HostState(app, host, State.PENDING, "host has revision " + assigned + ", intent is at "
                    + entry.modRevision() + ": waiting for the dispatcher", true, placed, assigned, version, null, agents);
        }
        State state = State.OK;
        String message = null;
        Map<String, Object> progress = null;
        for (AgentState a : agents) {
            if (a.state().ordinal() > state.ordinal()) {
                state = a.state();
                message = a.agent() + ": " + a.message();
            }
            if (a.state() == State.PREPARING && progress == null && !a.details().isEmpty()) {
                progress = progress(a.details());
            }
        }
        return new HostState(app, host, state, message, true, placed, assigned, version, progress, agents);
    }

    private List<AgentState> agents(String active, long assigned, Map<String, Entry<AgentStatus>> reports) {
        Map<String, AgentState> out = new LinkedHashMap<>();
        for (String agent : expectedAgents) {
            out.put(agent, agent(agent, active, assigned, reports.get(agent)));
        }
        new TreeSet<>(reports.keySet()).forEach(agent -> out.computeIfAbsent(agent,
                a -> agent(a, active, assigned, reports.get(a))));
        return List.copyOf(out.values());
    }

    /** The state of one agent's report; {@code report} may be null (no report yet). */
    static AgentState agent(String agent, String active, long assigned, Entry<AgentStatus> report) {
        if (report == null) {
            return new AgentState(agent, State.PREPARING, null, null, 0, "no report yet", 0, null, Map.of());
        }
        if (!report.valid()) {
            return new AgentState(agent, State.FAILED, null, null, 0, "status is unreadable: " + report.error(), 0,
                    null, Map.of());
        }
        AgentStatus s = report.value();
        State state;
        String message = s.message();
        if (s.phase() == Phase.FAILED) {
            state = State.FAILED;
            message = (message == null ? "failed" : message) + " (attempt " + s.attempts() + ")";
        } else if (s.observedRevision() < assigned) {
            state = State.PREPARING;
            message = "has not seen revision " + assigned + " yet (at " + s.observedRevision() + ")";
        } else if (s.phase() == Phase.WAITING || s.phase() == Phase.PROGRESSING) {
            state = State.PREPARING;
            message = message == null ? s.phase().name().toLowerCase() : message;
        } else if (s.phase() == Phase.READY && s.version() != null && !Objects.equals(s.version(), active)) {
            state = State.VERSION_MISMATCH;
            message = "ready with version " + s.version() + ", active is " + active;
        } else {
            state = State.OK;
        }
        return new AgentState(agent, state, s.phase(), s.version(), s.observedRevision(), message, s.attempts(),
                s.since(), s.details());
    }

    /** The version a host reports running: setlive's when it reports one, else the first agent's. */
    private static String version(List<AgentState> agents) {
        for (AgentState a : agents) {
            if (a.agent().equals("setlive") && a.version() != null) {
                return a.version();
            }
        }
        return agents.stream().map(AgentState::version).filter(Objects::nonNull).findFirst().orElse(null);
    }

    /** The agent's details, plus a {@code percent} when they hold a done/total pair of figures. */
    static Map<String, Object> progress(Map<String, Object> details) {
        Map<String, Object> p = new LinkedHashMap<>(details);
        Object done = first(details, "bytesDone", "done", "fetched");
        Object total = first(details, "bytesTotal", "total", "size");
        if (done instanceof Number d && total instanceof Number t && t.doubleValue() > 0 && !p.containsKey("percent")) {
            p.put("percent", Math.min(100, Math.round(100 * d.doubleValue() / t.doubleValue())));
        }
        return p;
    }

    private static Object first(Map<String, Object> m, String... keys) {
        for (String k : keys) {
            if (m.get(k) != null) {
                return m.get(k);
            }
        }
        return null;
    }
}
