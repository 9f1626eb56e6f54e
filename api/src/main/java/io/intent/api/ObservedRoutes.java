package io.intent.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.GetOption;
import io.intent.api.status.AppState;
import io.intent.api.status.HostStatus;
import io.intent.api.status.ObservedReader;
import io.intent.api.status.StatusModel;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.Assignment;
import io.intent.store.model.Placement;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** The read-only views of what the system did: status, assignments, placements and the leader. */
final class ObservedRoutes {
    /** A leader (or candidate) key of an election, from etcd's election API. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Candidate(String id, String key, long createRevision, long lease, Instant observedSince) {
    }

    /** Who leads one election (the candidate key with the lowest create revision) and who waits. */
    record Election(String name, Candidate leader, List<Candidate> candidates) {
    }

    private final EtcdStore store;
    private final KeyLayout keys;
    private final ObservedReader reader;
    private final StatusModel model;
    /** When this API first saw each leader key: etcd keeps revisions, not times. */
    private final Map<String, Instant> firstSeen = new ConcurrentHashMap<>();

    ObservedRoutes(EtcdStore store, ApiServer.Options options) {
        this.store = store;
        this.keys = store.keys();
        this.reader = new ObservedReader(store);
        this.model = new StatusModel(options.expectedAgents());
    }

    void register(ApiServer api, Router r) {
        api.route(r, HttpMethod.GET, "/v1/status", Role.VIEWER, c -> {
            var o = reader.read();
            List<AppState> apps = model.apps(o);
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("revision", o.revision());
            body.put("converged", apps.stream().allMatch(AppState::converged));
            String disruption = model.disruption(o);
            if (disruption != null) {
                body.put("disruption", disruption);
            }
            body.put("apps", apps);
            body.put("hosts", model.hosts(o));
            return Reply.ok(body);
        });
        api.route(r, HttpMethod.GET, "/v1/status/apps/:name", Role.VIEWER, c -> {
            String name = c.name("name");
            AppState s = model.app(name, reader.read());
            if (s == null) {
                throw ApiError.notFound("app " + name);
            }
            return Reply.ok(s);
        });
        api.route(r, HttpMethod.GET, "/v1/status/hosts", Role.VIEWER, c -> {
            var o = reader.read();
            return Reply.ok(Map.of("revision", o.revision(), "hosts", model.hosts(o)));
        });
        api.route(r, HttpMethod.GET, "/v1/status/hosts/:name", Role.VIEWER, c -> {
            String name = c.name("name");
            var o = reader.read();
            HostStatus h = model.host(name, o);
            if (!h.registered() && !h.live() && h.apps().isEmpty()) {
                throw ApiError.notFound("host " + name);
            }
            return Reply.ok(h);
        });
        api.route(r, HttpMethod.GET, "/v1/assignments", Role.VIEWER, c -> Reply.ok(assignments(c)));
        api.route(r, HttpMethod.GET, "/v1/assignments/:host/:app", Role.VIEWER, c -> {
            String host = c.name("host");
            String app = c.name("app");
            var e = store.get(keys.assignment(host, app), Assignment.class)
                    .orElseThrow(() -> ApiError.notFound("assignment of app " + app + " to host " + host));
            return Reply.ok(doc(e), e.modRevision());
        });
        api.route(r, HttpMethod.GET, "/v1/placements", Role.VIEWER, c -> {
            var snap = store.list(keys.placementPrefix(), Placement.class);
            List<Object> out = new ArrayList<>();
            snap.entries().forEach(e -> out.add(doc(e)));
            return Reply.ok(Map.of("revision", snap.revision(), "placements", out));
        });
        api.route(r, HttpMethod.GET, "/v1/placements/:name", Role.VIEWER, c -> {
            String name = c.name("name");
            var e = store.get(keys.placement(name), Placement.class)
                    .orElseThrow(() -> ApiError.notFound("placement of app " + name));
            return Reply.ok(doc(e), e.modRevision());
        });
        api.route(r, HttpMethod.GET, "/v1/leader", Role.VIEWER, c -> Reply.ok(leader()));
        api.route(r, HttpMethod.GET, "/v1/endpoints/:app", Role.VIEWER, c -> Reply.ok(endpoints(
                checked("app", c.name("app")))));
    }

    /**
     * The live, healthy instances of {@code app}: the endpoints setlive published, each kept only when its host's
     * live key exists and its setlive status is READY for the endpoint's version, all read at one etcd revision.
     * An app that does not exist at that revision is a 404.
     */
    private Map<String, Object> endpoints(String app) {
        var eps = store.list(keys.endpointsPrefix(), io.intent.store.model.Endpoint.class);
        long rev = eps.revision();
        // an app that does not exist has no endpoints to list: say so rather than answer an empty list
        boolean exists = store.list(keys.app(app), io.intent.store.model.AppIntent.class, rev).entries().stream()
                .anyMatch(x -> x.key().equals(keys.app(app)));
        if (!exists) {
            throw ApiError.notFound("app " + app);
        }
        var live = store.list(keys.livePrefix(), io.intent.store.model.Liveness.class, rev);
        Set<String> liveHosts = new java.util.TreeSet<>();
        live.entries().forEach(e -> liveHosts.add(e.key().substring(keys.livePrefix().length())));
        List<Object> out = new ArrayList<>();
        for (var e : eps.entries()) {
            String[] p = e.key().substring(keys.endpointsPrefix().length()).split("/");
            if (p.length != 2 || !p[1].equals(app) || !e.valid() || !liveHosts.contains(p[0])) {
                continue;
            }
            var st = store.list(keys.status(p[0], app, "setlive"), io.intent.store.model.AgentStatus.class, rev)
                    .entries().stream().filter(x -> x.key().equals(keys.status(p[0], app, "setlive"))).findFirst();
            if (st.isEmpty() || !st.get().valid() || st.get().value().phase() != io.intent.store.model.Phase.READY
                    || !e.value().version().equals(st.get().value().version())) {
                continue;
            }
            var ep = e.value();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("host", ep.host());
            m.put("address", ep.address());
            m.put("version", ep.version());
            m.put("ports", ep.ports());
            m.put("since", ep.since());
            out.add(m);
        }
        return Map.of("app", app, "revision", rev, "endpoints", out);
    }

    private Map<String, Object> assignments(Call c) {
        String host = c.query("host");
        String app = c.query("app");
        String prefix = host == null ? keys.assignPrefix() : keys.assignSlice(checked("host", host));
        if (app != null) {
            checked("app", app);
        }
        var snap = store.list(prefix, Assignment.class);
        List<Object> out = new ArrayList<>();
        for (var e : snap.entries()) {
            String[] p = e.key().substring(keys.assignPrefix().length()).split("/");
            if (app == null || (p.length == 2 && p[1].equals(app))) {
                out.add(doc(e));
            }
        }
        return Map.of("revision", snap.revision(), "assignments", out);
    }

    private static String checked(String what, String name) {
        String problem = io.intent.store.codec.Names.problem(name);
        if (problem != null) {
            throw ApiError.badRequest(what + " '" + name + "': " + problem);
        }
        return name;
    }

    private Map<String, Object> doc(io.intent.store.etcd.Entry<?> e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", e.key().substring(keys.root().length() + 1));
        m.put("revision", e.modRevision());
        if (e.valid()) {
            m.put("value", e.value());
        } else {
            m.put("error", e.error());
            m.put("raw", e.raw());
        }
        return m;
    }

    /**
     * Reads the election keys directly: under an election name, etcd's election API writes one key per candidate
     * ({@code <name>/<lease hex>}, value = the candidate's id); the one with the lowest create revision leads.
     */
    private Map<String, Object> leader() {
        String prefix = keys.leaderPrefix();
        var resp = store.call("list " + prefix, () -> store.client().getKVClient().get(
                ByteSequence.from(prefix, StandardCharsets.UTF_8), GetOption.builder().isPrefix(true).build()));
        Map<String, List<Candidate>> byElection = new TreeMap<>();
        Instant now = Instant.now();
        if (firstSeen.size() > 1000) {
            firstSeen.clear();
        }
        for (var kv : resp.getKvs()) {
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            int slash = key.lastIndexOf('/');
            if (slash <= prefix.length() - 1) {
                continue;
            }
            String election = key.substring(0, slash);
            String id = kv.getValue().toString(StandardCharsets.UTF_8);
            String seenKey = key + "@" + kv.getCreateRevision();
            Instant since = firstSeen.computeIfAbsent(seenKey, k -> now);
            byElection.computeIfAbsent(election, k -> new ArrayList<>()).add(new Candidate(
                    id.length() > 256 ? id.substring(0, 256) : id, key, kv.getCreateRevision(), kv.getLease(), since));
        }
        List<Election> elections = new ArrayList<>();
        byElection.forEach((name, cands) -> {
            cands.sort(Comparator.comparingLong(Candidate::createRevision));
            elections.add(new Election(name, cands.get(0), cands));
        });
        Election main = elections.stream().filter(e -> e.name().equals(keys.election())).findFirst()
                .orElse(elections.isEmpty() ? null : elections.get(0));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("revision", resp.getHeader().getRevision());
        out.put("leader", main == null ? null : main.leader());
        out.put("elections", elections);
        out.put("note", "createRevision is the leader key's create revision (etcd keeps no wall-clock times); "
                + "observedSince is when this API process first saw that key");
        return out;
    }
}
