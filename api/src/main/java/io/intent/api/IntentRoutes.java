package io.intent.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.intent.api.plan.Plan;
import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Json;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.StoreException;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelStatus;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** The writable resources: apps (with history and rollback), hosts, release channels, tokens, and the plan preview. */
// Long (about 430 lines): every writable resource shares the same ETag/If-Match, validation and history rules
// (expected(), stale(), invalid()); a class per resource would pass those around. Channels and tokens are the
// seam to split along if it grows.
final class IntentRoutes {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** An app as the API returns it: its intent and ETag revision, or why the stored value is unreadable. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record AppDoc(String name, long revision, AppIntent intent, String error, String raw) {
    }

    /** A host: its spec, and its liveness record when it is live. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HostDoc(String name, long revision, HostSpec spec, String error, String raw, Liveness live) {
    }

    /**
     * One earlier version of an app's intent, read from etcd's history; {@code channel} and
     * {@code channelRevision} name the channel move that wrote it when the leader moved the app
     * ({@code channelRevision} is the channel key's mod revision, see {@code GET /v1/channels/<name>}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HistoryItem(long revision, String active, int scale, List<String> versions, String channel,
                       Long channelRevision, String stopped) {
    }

    /** A release channel: its value and ETag revision (or why it is unreadable), and the leader's status of it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ChannelDoc(String name, long revision, Channel channel, String error, String raw, ChannelStatus status) {
    }

    /** {@code POST /v1/apps/{name}/rollback} body: the version to go back to; absent = the previous active one. */
    record RollbackRequest(String to) {
    }

    /** What a rollback did. */
    record RollbackDoc(String name, long revision, String from, String to, AppIntent intent) {
    }

    /** A token as listed: never its hash. */
    record TokenDoc(String name, String role) {
    }

    /** {@code POST /v1/plan} body. */
    record PlanRequest(Map<String, AppIntent> apps) {
    }

    private final EtcdStore store;
    private final KeyLayout keys;
    private final Writes writes;
    private final ReadCache cache;

    /** An app document as sent, for the key revision it was encoded from. */
    private record Encoded(long modRevision, ApiServer.Encoded body) {
    }

    private final Map<String, Encoded> encodedApps = new java.util.concurrent.ConcurrentHashMap<>();

    IntentRoutes(EtcdStore store, ReadCache cache, ApiServer.Options options) {
        this.store = store;
        this.keys = store.keys();
        this.writes = new Writes(store, cache::wrote);
        this.cache = cache;
    }

    void register(ApiServer api, Router r) {
        api.route(r, HttpMethod.GET, "/v1/apps", Role.VIEWER, c -> {
            View v = cache.forRead(c);
            return ReadCache.reply(v, listApps(v));
        });
        api.routeCached(r, "/v1/apps/:name", this::getApp);
        api.route(r, HttpMethod.PUT, "/v1/apps/:name", Role.OPERATOR, this::putApp);
        api.route(r, HttpMethod.DELETE, "/v1/apps/:name", Role.OPERATOR, c -> delete(c, "app", keys.app(c.name("name"))));
        api.route(r, HttpMethod.GET, "/v1/apps/:name/history", Role.VIEWER, this::history);
        api.route(r, HttpMethod.POST, "/v1/apps/:name/rollback", Role.OPERATOR, this::rollback);
        api.route(r, HttpMethod.POST, "/v1/apps/:name/restart", Role.OPERATOR, this::restart);
        api.route(r, HttpMethod.GET, "/v1/hosts", Role.VIEWER, c -> {
            View v = cache.forRead(c);
            return ReadCache.reply(v, listHosts(v));
        });
        api.routeCached(r, "/v1/hosts/:name", this::getHost);
        api.route(r, HttpMethod.PUT, "/v1/hosts/:name", Role.OPERATOR, this::putHost);
        api.route(r, HttpMethod.DELETE, "/v1/hosts/:name", Role.ADMIN,
                c -> delete(c, "host", keys.host(c.name("name"))));
        api.route(r, HttpMethod.GET, "/v1/tokens", Role.ADMIN, c -> Reply.ok(listTokens()));
        api.route(r, HttpMethod.PUT, "/v1/tokens/:name", Role.ADMIN, this::putToken);
        api.route(r, HttpMethod.DELETE, "/v1/tokens/:name", Role.ADMIN,
                c -> delete(c, "token", Tokens.prefix(keys) + c.name("name")));
        api.route(r, HttpMethod.POST, "/v1/plan", Role.VIEWER, this::plan);
        api.route(r, HttpMethod.GET, "/v1/channels", Role.VIEWER, c -> Reply.ok(listChannels()));
        api.route(r, HttpMethod.GET, "/v1/channels/:name", Role.VIEWER, this::getChannel);
        api.route(r, HttpMethod.PUT, "/v1/channels/:name", Role.OPERATOR, this::putChannel);
        api.route(r, HttpMethod.DELETE, "/v1/channels/:name", Role.OPERATOR,
                c -> delete(c, "channel", keys.channel(c.name("name"))));
    }

    // ---- apps

    private static Map<String, Object> listApps(View v) {
        List<AppDoc> apps = new ArrayList<>();
        v.observed().apps().forEach((name, e) -> apps.add(appDoc(name, e)));
        return Map.of("revision", v.revision(), "apps", apps);
    }

    private static AppDoc appDoc(String name, Entry<AppIntent> e) {
        return new AppDoc(name, e.modRevision(), e.value(), e.error(), e.raw());
    }

    private Reply getApp(Call c) throws InterruptedException {
        String name = c.name("name");
        View v = cache.forRead(c);
        var e = v.observed().apps().get(name);
        if (e == null) {
            throw ApiError.notFound("app " + name);
        }
        // the hottest read: encode each app once per revision of its key, like kube-apiserver's cached objects
        Encoded doc = encodedApps.get(name);
        if (doc == null || doc.modRevision() != e.modRevision()) {
            if (encodedApps.size() > 100_000) {
                encodedApps.clear();
            }
            doc = new Encoded(e.modRevision(), new ApiServer.Encoded(Json.write(appDoc(name, e))));
            encodedApps.put(name, doc);
        }
        return ReadCache.reply(v, doc.body(), e.modRevision());
    }

    private Reply putApp(Call c) {
        String name = c.name("name");
        AppIntent intent = c.body(AppIntent.class);
        return write(c, "app " + name, keys.app(name), intent, Validation.check(name, intent),
                rev -> new AppDoc(name, rev, intent, null, null));
    }

    /** A validated, conditional put answering 201 when created, 200 when replaced, with the new ETag. */
    private Reply write(Call c, String subject, String key, Object value, List<FieldError> errors,
                        java.util.function.LongFunction<Object> doc) {
        if (!errors.isEmpty()) {
            throw invalid(subject, errors);
        }
        var out = writes.put(key, Json.write(value), expected(c));
        if (!out.applied()) {
            throw stale(subject);
        }
        return Reply.of(out.existed() ? 200 : 201, doc.apply(out.revision()), out.revision());
    }

    static ApiError invalid(String subject, List<FieldError> errors) {
        return new ApiError(400, "invalid_intent", subject + " is invalid: " + errors.size() + " error(s): "
                + String.join("; ", errors.stream().map(FieldError::toString).toList()), errors);
    }

    private static ApiError stale(String subject) {
        return new ApiError(412, "precondition_failed", subject + " does not match If-Match/If-None-Match (it was "
                + "changed, deleted or created meanwhile): read it again and retry");
    }

    /** The revision the write is conditional on: If-None-Match: * means "must not exist". */
    private static long expected(Call c) {
        String none = c.header("If-None-Match");
        if (none != null) {
            if (!none.strip().equals("*")) {
                throw ApiError.badRequest("If-None-Match only supports *");
            }
            return 0;
        }
        return Etags.parseIfMatch(c.header("If-Match"));
    }

    private Reply delete(Call c, String what, String key) {
        long expected = Etags.parseIfMatch(c.header("If-Match"));
        var out = writes.delete(key, expected);
        if (!out.applied()) {
            if (expected == Etags.NONE || expected == Etags.ANY) {
                throw ApiError.notFound(what + " " + c.ctx().pathParam("name"));
            }
            throw stale(what + " " + c.ctx().pathParam("name"));
        }
        return Reply.ok(Map.of("name", c.ctx().pathParam("name"), "deleted", true, "revision", out.revision()));
    }

    private Reply history(Call c) {
        String name = c.name("name");
        var e = store.get(keys.app(name), AppIntent.class).orElseThrow(() -> ApiError.notFound("app " + name));
        int max = 20;
        try {
            String q = c.query("max");
            max = q == null ? 20 : Math.max(1, Math.min(100, Integer.parseInt(q)));
        } catch (NumberFormatException ex) {
            throw ApiError.badRequest("max must be a number");
        }
        var h = walkHistory(keys.app(name), e, max);
        return Reply.ok(Map.of("name", name, "history", h.items(), "complete", h.complete()), e.modRevision());
    }

    private record History(List<HistoryItem> items, boolean complete) {
    }

    /**
     * Earlier values of an app key, newest first, read with etcd gets at older revisions. Stops at the key's
     * creation, at compacted history ({@code complete} false), or after {@code max} values.
     */
    private History walkHistory(String key, Entry<AppIntent> current, int max) {
        List<HistoryItem> items = new ArrayList<>();
        if (current.valid()) {
            items.add(item(current.modRevision(), current.value()));
        }
        long rev = current.modRevision();
        while (items.size() < max && rev > 1) {
            long at = rev - 1;
            Optional<Entry<AppIntent>> old;
            try {
                old = store.get(key, AppIntent.class, at);
            } catch (StoreException ex) {
                if (ex.isTransient()) {
                    throw ex;
                }
                return new History(items, false);
            }
            if (old.isEmpty()) {
                return new History(items, true);
            }
            rev = old.get().modRevision();
            if (old.get().valid()) { // an unreadable old value has no version to roll back to
                items.add(item(rev, old.get().value()));
            }
        }
        return new History(items, items.size() < max);
    }

    private static HistoryItem item(long rev, AppIntent a) {
        var ch = a.channel();
        return new HistoryItem(rev, a.active(), a.scaleOrDefault(), new ArrayList<>(new TreeMap<>(a.versions()).keySet()),
                ch == null ? null : ch.follow(), ch == null ? null : ch.revision(), ch == null ? null : ch.stopped());
    }

    private Reply rollback(Call c) {
        String name = c.name("name");
        String key = keys.app(name);
        RollbackRequest req = c.body().length == 0 ? new RollbackRequest(null) : c.body(RollbackRequest.class);
        var e = store.get(key, AppIntent.class).orElseThrow(() -> ApiError.notFound("app " + name));
        if (!e.valid()) {
            throw new ApiError(409, "conflict", "app " + name + " is unreadable in etcd (" + e.error()
                    + "); PUT a valid intent instead");
        }
        AppIntent now = e.value();
        String to = req.to();
        if (to == null) {
            var h = walkHistory(key, e, 100);
            to = h.items().stream().map(HistoryItem::active)
                    .filter(v -> v != null && !v.equals(now.active()) && now.versions().containsKey(v))
                    .findFirst().orElseThrow(() -> new ApiError(409, "no_previous_version", "app " + name
                            + " has no earlier active version still listed in versions"
                            + (h.complete() ? "" : " in the history etcd still has (compacted)")
                            + "; name one: {\"to\": \"<version>\"}"));
        } else if (!now.versions().containsKey(to)) {
            throw new ApiError(400, "invalid_intent", "version '" + to + "' is not listed in app " + name
                    + "'s versions", List.of(new FieldError("to", "not one of versions")));
        }
        AppIntent next = now.withActive(to);
        var out = writes.put(key, Json.write(next), e.modRevision());
        if (!out.applied()) {
            throw new ApiError(409, "conflict", "app " + name + " changed while rolling back; retry");
        }
        return Reply.of(200, new RollbackDoc(name, out.revision(), now.active(), to, next), out.revision());
    }

    /** What {@code POST /v1/apps/NAME/restart} takes: the one host to restart, or null for every instance. */
    record RestartRequest(String host) {
    }

    /**
     * Force redeploy: raises the intent's restart generation (all instances, or one host's), so every setlive
     * concerned restarts its instance through the normal rollout path. Level-triggered: it is in the intent.
     */
    private Reply restart(Call c) {
        String name = c.name("name");
        String key = keys.app(name);
        RestartRequest req = c.body().length == 0 ? new RestartRequest(null) : c.body(RestartRequest.class);
        if (req.host() != null && io.intent.store.codec.Names.problem(req.host()) != null) {
            throw new ApiError(400, "invalid_intent", "host '" + req.host() + "': "
                    + io.intent.store.codec.Names.problem(req.host()), List.of(new FieldError("host", "not a name")));
        }
        var e = store.get(key, AppIntent.class).orElseThrow(() -> ApiError.notFound("app " + name));
        if (!e.valid()) {
            throw new ApiError(409, "conflict", "app " + name + " is unreadable in etcd (" + e.error()
                    + "); PUT a valid intent instead");
        }
        AppIntent next = e.value().withRestart(req.host(), java.time.Instant.now().toString());
        var out = writes.put(key, Json.write(next), e.modRevision());
        if (!out.applied()) {
            throw new ApiError(409, "conflict", "app " + name + " changed while restarting; retry");
        }
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("app", name);
        body.put("revision", out.revision());
        body.put("host", req.host());
        body.put("restart", next.restart());
        return Reply.of(200, body, out.revision());
    }

    // ---- hosts

    private static Map<String, Object> listHosts(View v) {
        var live = v.observed().live();
        List<HostDoc> hosts = new ArrayList<>();
        v.observed().hosts().forEach((name, e) -> {
            var l = live.get(name);
            hosts.add(new HostDoc(name, e.modRevision(), e.value(), e.error(), e.raw(),
                    l == null ? null : l.value()));
        });
        return Map.of("revision", v.revision(), "hosts", hosts);
    }

    private Reply getHost(Call c) throws InterruptedException {
        String name = c.name("name");
        View v = cache.forRead(c);
        var e = v.observed().hosts().get(name);
        if (e == null) {
            throw ApiError.notFound("host " + name);
        }
        var l = v.observed().live().get(name);
        return ReadCache.reply(v, new HostDoc(name, e.modRevision(), e.value(), e.error(), e.raw(),
                l == null ? null : l.value()), e.modRevision());
    }

    private Reply putHost(Call c) {
        String name = c.name("name");
        HostSpec spec = c.body(HostSpec.class);
        return write(c, "host " + name, keys.host(name), spec, Validation.check(name, spec),
                rev -> new HostDoc(name, rev, spec, null, null, null));
    }

    // ---- tokens

    private Map<String, Object> listTokens() {
        String prefix = Tokens.prefix(keys);
        List<TokenDoc> out = new ArrayList<>();
        for (var e : store.list(prefix, Tokens.StoredToken.class).entries()) {
            String name = KeyLayout.childName(prefix, e.key());
            out.add(new TokenDoc(name, e.valid() ? e.value().role() : "(unreadable)"));
        }
        return Map.of("tokens", out, "note", "tokens from --tokens-file are not listed here");
    }

    private Reply putToken(Call c) {
        String name = c.name("name");
        Tokens.StoredToken t = c.body(Tokens.StoredToken.class);
        List<FieldError> errors = new ArrayList<>();
        try {
            Role.parse(t.role() == null ? "" : t.role());
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError("role", e.getMessage()));
        }
        if (t.sha256() == null || !SHA256.matcher(t.sha256()).matches()) {
            errors.add(new FieldError("sha256", "must be 64 lowercase hex digits: the sha256 of the token, never "
                    + "the token (intentctl token hash)"));
        }
        return write(c, "token " + name, Tokens.prefix(keys) + name, t, errors,
                rev -> new TokenDoc(name, Role.parse(t.role()).toString()));
    }

    // ---- channels

    private Map<String, Object> listChannels() {
        var snap = store.list(keys.channelsPrefix(), Channel.class);
        var statuses = store.list(keys.channelStatusPrefix(), ChannelStatus.class, snap.revision()).byKey();
        List<ChannelDoc> out = new ArrayList<>();
        for (var e : snap.entries()) {
            String name = KeyLayout.childName(keys.channelsPrefix(), e.key());
            if (name != null && io.intent.store.codec.Names.valid(name)) {
                var st = statuses.get(keys.channelStatus(name));
                out.add(new ChannelDoc(name, e.modRevision(), e.value(), e.error(), e.raw(),
                        st == null ? null : st.value()));
            }
        }
        return Map.of("revision", snap.revision(), "channels", out);
    }

    private Reply getChannel(Call c) {
        String name = c.name("name");
        var e = store.get(keys.channel(name), Channel.class).orElseThrow(() -> ApiError.notFound("channel " + name));
        var st = store.get(keys.channelStatus(name), ChannelStatus.class).map(Entry::value).orElse(null);
        return Reply.ok(new ChannelDoc(name, e.modRevision(), e.value(), e.error(), e.raw(), st), e.modRevision());
    }

    private Reply putChannel(Call c) {
        String name = c.name("name");
        Channel channel = c.body(Channel.class);
        return write(c, "channel " + name, keys.channel(name), channel, Validation.check(name, channel),
                rev -> new ChannelDoc(name, rev, channel, null, null, null));
    }

    // ---- plan

    private Reply plan(Call c) throws InterruptedException {
        PlanRequest req = c.body(PlanRequest.class);
        if (req.apps() == null || req.apps().isEmpty()) {
            throw ApiError.badRequest("plan needs {\"apps\": {\"<name>\": <intent>, ...}}");
        }
        View v = cache.forRead(c);
        return ReadCache.reply(v, Plan.preview(req.apps(), v.observed()));
    }
}
