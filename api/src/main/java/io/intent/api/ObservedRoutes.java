package io.intent.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.intent.api.status.AppState;
import io.intent.api.status.HostStatus;
import io.intent.api.status.StatusModel;
import io.intent.store.KeyLayout;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.StoreException;
import io.intent.store.model.Assignment;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The read-only views of what the system did: status, assignments, placements and the leader. */
// Long (about 420 lines): the read-only views share one read cache view, paging and the status computation
// cache (statusView, view, computeStatus); split along status vs. assignments/leader if it grows.
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
    private final ReadCache cache;
    private final StatusModel model;
    /** The newest cache snapshot whose full status has been computed. */
    private volatile View computed;
    private volatile long computedAt;
    /** The least time between two background status computations. */
    static final java.time.Duration STATUS_PAUSE = java.time.Duration.ofMillis(500);
    /** Computes the status of a newer snapshot in the background, one at a time. */
    private final java.util.concurrent.ExecutorService statusWorker = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "api-status");
                t.setDaemon(true);
                return t;
            });
    private final java.util.concurrent.atomic.AtomicBoolean computing = new java.util.concurrent.atomic.AtomicBoolean();
    /** When this API first saw each leader key: etcd keeps revisions, not times. */
    private final Map<String, Instant> firstSeen = new ConcurrentHashMap<>();

    ObservedRoutes(EtcdStore store, ReadCache cache, ApiServer.Options options) {
        this.store = store;
        this.keys = store.keys();
        this.cache = cache;
        this.model = new StatusModel(options.expectedAgents());
    }

    void register(ApiServer api, Router r) {
        api.route(r, HttpMethod.GET, "/v1/status", Role.VIEWER, this::status);
        api.routeCached(r, "/v1/status/apps/:name", c -> {
            String name = c.name("name");
            View v = cache.forRead(c);
            AppState s = model.app(name, v.observed());
            if (s == null) {
                throw ApiError.notFound("app " + name);
            }
            return ReadCache.reply(v, s);
        });
        api.route(r, HttpMethod.GET, "/v1/status/hosts", Role.VIEWER, c -> {
            Paging paging = Paging.of(c, Paging.STATUS_LIMIT);
            View v = statusView(c, paging);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("revision", v.revision());
            body.put("hosts", page(v, paging, List.of(), v.status(model).hosts(), body));
            return ReadCache.reply(v, body);
        });
        api.route(r, HttpMethod.GET, "/v1/status/hosts/:name", Role.VIEWER, c -> {
            String name = c.name("name");
            View v = cache.forRead(c);
            HostStatus h = model.host(name, v.observed());
            if (!h.registered() && !h.live() && h.apps().isEmpty()) {
                throw ApiError.notFound("host " + name);
            }
            return ReadCache.reply(v, h);
        });
        api.route(r, HttpMethod.GET, "/v1/assignments", Role.VIEWER, this::assignments);
        api.routeCached(r, "/v1/assignments/:host/:app", c -> {
            String host = c.name("host");
            String app = c.name("app");
            View v = cache.forRead(c);
            var e = v.observed().assignments().getOrDefault(host, Map.of()).get(app);
            if (e == null) {
                throw ApiError.notFound("assignment of app " + app + " to host " + host);
            }
            return ReadCache.reply(v, doc(e), e.modRevision());
        });
        api.route(r, HttpMethod.GET, "/v1/placements", Role.VIEWER, c -> {
            View v = cache.forRead(c);
            List<Object> out = new ArrayList<>();
            v.observed().placements().values().forEach(e -> out.add(doc(e)));
            return ReadCache.reply(v, Map.of("revision", v.revision(), "placements", out));
        });
        api.routeCached(r, "/v1/placements/:name", c -> {
            String name = c.name("name");
            View v = cache.forRead(c);
            var e = v.observed().placements().get(name);
            if (e == null) {
                throw ApiError.notFound("placement of app " + name);
            }
            return ReadCache.reply(v, doc(e), e.modRevision());
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

    /**
     * The snapshot a status list is answered from. The full status is computed once per snapshot, which at 10,000
     * instances takes a good part of a second on a loaded machine, while agents write a new revision many times
     * a second: so a first page is answered from the newest snapshot whose status is already computed, as long
     * as it is not older than this API's last write (read-your-writes), while the newest one is computed in the
     * background. {@code X-Intent-Revision} says which snapshot answered.
     */
    private View statusView(Call c, Paging paging) throws InterruptedException {
        View v = view(c, paging);
        if (!paging.first() || v.source() != View.Source.CACHE || v.hasStatus()) {
            return v;
        }
        View done = computed;
        if (done != null && done.revision() >= cache.written() && done.revision() < v.revision()) {
            // one computation at a time, and none sooner than STATUS_PAUSE after the last: while agents write
            // continuously, recomputing back to back would take a core away from answering
            if (System.nanoTime() - computedAt >= STATUS_PAUSE.toNanos() && computing.compareAndSet(false, true)) {
                statusWorker.execute(() -> {
                    try {
                        computeStatus(v);
                    } finally {
                        computing.set(false);
                    }
                });
            }
            return done;
        }
        computeStatus(v);
        return v;
    }

    private void computeStatus(View v) {
        v.status(model);
        computedAt = System.nanoTime();
        View done = computed;
        if (done == null || done.revision() < v.revision()) {
            computed = v;
        }
    }

    void close() {
        statusWorker.shutdownNow();
    }

    /** The snapshot a (possibly paged) list is cut from: a later page uses the first page's revision. */
    private View view(Call c, Paging paging) throws InterruptedException {
        if (paging.first()) {
            return cache.forRead(c);
        }
        try {
            return cache.at(paging.revision());
        } catch (StoreException e) {
            if (e.isTransient()) {
                throw e;
            }
            throw new ApiError(410, "expired", "the snapshot at revision " + paging.revision() + " this list "
                    + "started on is gone (etcd compacted it): start the list again without continue");
        }
    }

    /**
     * {@code GET /v1/status}: a page of the apps, then of the hosts (one list: apps first, then hosts), and the
     * summary (converged, disruption) of the whole snapshot.
     */
    private Reply status(Call c) throws InterruptedException {
        Paging paging = Paging.of(c, Paging.STATUS_LIMIT);
        View v = statusView(c, paging);
        String key = paging.limit() + "\n" + paging.section() + "\n" + paging.after();
        byte[] json = v.page(key, () -> io.intent.store.codec.Json.write(statusPage(v, paging)));
        if (paging.first() && v.source() == View.Source.CACHE && new String(json, Math.max(0, json.length - 512),
                Math.min(512, json.length), java.nio.charset.StandardCharsets.UTF_8).contains("\"continue\":")) {
            cache.pin(v); // a cached first page still starts a list: keep its snapshot for the next pages
        }
        return ReadCache.reply(v, new ApiServer.Encoded(json));
    }

    /** One page of the status list as a body, encoded once per snapshot and page (see {@link View#page}). */
    private Map<String, Object> statusPage(View v, Paging paging) {
        View.Status s = v.status(model);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("revision", v.revision());
        body.put("converged", s.converged());
        if (s.disruption() != null) {
            body.put("disruption", s.disruption());
        }
        List<Object> hosts = new ArrayList<>();
        body.put("apps", page(v, paging, s.apps(), s.hosts(), body, hosts));
        body.put("hosts", hosts);
        Object next = body.remove("continue");
        if (next != null) {
            body.put("continue", next);
        }
        return body;
    }

    private List<Object> page(View v, Paging paging, List<AppState> apps, List<HostStatus> hosts,
                              Map<String, Object> body) {
        List<Object> out = new ArrayList<>();
        page(v, paging, apps, hosts, body, out);
        return out;
    }

    /**
     * Cuts one page from the list "apps, then hosts": the apps go to the returned list, the hosts to
     * {@code hostsOut}; puts {@code continue} into {@code body} when items remain.
     */
    private List<Object> page(View v, Paging paging, List<AppState> apps, List<HostStatus> hosts,
                              Map<String, Object> body, List<Object> hostsOut) {
        String section = paging.first() ? "apps" : paging.section();
        if (!section.equals("apps") && !section.equals("hosts")) {
            throw ApiError.badRequest("continue token is not one of this list; start the list again without it");
        }
        List<Object> appsOut = new ArrayList<>();
        int left = paging.limit();
        String lastSection = null;
        String last = null;
        boolean more = false;
        if (section.equals("apps")) {
            for (AppState a : apps) {
                if (paging.after() != null && a.app().compareTo(paging.after()) <= 0) {
                    continue;
                }
                if (left == 0) {
                    more = true;
                    break;
                }
                appsOut.add(a);
                left--;
                lastSection = "apps";
                last = a.app();
            }
        }
        String hostsAfter = section.equals("hosts") ? paging.after() : null;
        for (int i = 0; i < hosts.size() && !more; i++) {
            HostStatus h = hosts.get(i);
            if (hostsAfter != null && h.host().compareTo(hostsAfter) <= 0) {
                continue;
            }
            if (left == 0) {
                more = true;
                break;
            }
            hostsOut.add(h);
            left--;
            lastSection = "hosts";
            last = h.host();
        }
        if (more) {
            body.put("continue", Paging.token(v.revision(), lastSection, last));
            if (paging.first()) {
                cache.pin(v);
            }
        }
        return appsOut;
    }

    /** {@code GET /v1/assignments[?host=&app=]}, paged in (host, app) order. */
    private Reply assignments(Call c) throws InterruptedException {
        String host = c.query("host");
        String app = c.query("app");
        if (host != null) {
            checked("host", host);
        }
        if (app != null) {
            checked("app", app);
        }
        Paging paging = Paging.of(c);
        if (!paging.first() && !paging.section().equals("assign")) {
            throw ApiError.badRequest("continue token is not one of this list; start the list again without it");
        }
        View v = view(c, paging);
        Map<String, Map<String, io.intent.store.etcd.Entry<Assignment>>> all = v.observed().assignments();
        Map<String, Map<String, io.intent.store.etcd.Entry<Assignment>>> hosts = host == null ? all
                : all.containsKey(host) ? Map.of(host, all.get(host)) : Map.of();
        String after = paging.first() ? null : paging.after();
        List<Object> out = new ArrayList<>();
        String last = null;
        boolean more = false;
        outer:
        for (var h : hosts.entrySet()) {
            for (var a : h.getValue().entrySet()) {
                if (app != null && !a.getKey().equals(app)) {
                    continue;
                }
                String id = h.getKey() + "/" + a.getKey();
                if (after != null && compare(id, after) <= 0) {
                    continue;
                }
                if (out.size() == paging.limit()) {
                    more = true;
                    break outer;
                }
                out.add(doc(a.getValue()));
                last = id;
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("revision", v.revision());
        body.put("assignments", out);
        if (more) {
            body.put("continue", Paging.token(v.revision(), "assign", last));
            if (paging.first()) {
                cache.pin(v);
            }
        }
        return ReadCache.reply(v, body);
    }

    /** (host, app) order, the order the nested maps iterate in. */
    private static int compare(String a, String b) {
        String[] x = a.split("/", 2);
        String[] y = b.split("/", 2);
        int c = x[0].compareTo(y[0]);
        return c != 0 ? c : x[1].compareTo(y[1]);
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

    /** Every election under {@code <root>/leader/} with its candidates, as {@link EtcdStore#elections} reads them. */
    private Map<String, Object> leader() {
        var read = store.elections(keys.leaderPrefix());
        Instant now = Instant.now();
        if (firstSeen.size() > 1000) {
            firstSeen.clear();
        }
        List<Election> elections = new ArrayList<>();
        read.candidates().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            List<Candidate> cands = e.getValue().stream().map(kv -> {
                Instant since = firstSeen.computeIfAbsent(kv.key() + "@" + kv.createRevision(), k -> now);
                String id = kv.value();
                return new Candidate(id.length() > 256 ? id.substring(0, 256) : id, kv.key(), kv.createRevision(),
                        kv.lease(), since);
            }).toList();
            elections.add(new Election(e.getKey(), cands.get(0), cands));
        });
        Election main = elections.stream().filter(e -> e.name().equals(keys.election())).findFirst()
                .orElse(elections.isEmpty() ? null : elections.get(0));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("revision", read.revision());
        out.put("leader", main == null ? null : main.leader());
        out.put("elections", elections);
        out.put("note", "createRevision is the leader key's create revision (etcd keeps no wall-clock times); "
                + "observedSince is when this API process first saw that key");
        return out;
    }
}
