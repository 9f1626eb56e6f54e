package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Failures;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelManifest;
import io.intent.store.model.ChannelStatus;
import io.intent.store.model.Phase;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's release-channel follower: it moves every app that follows a channel to the version the channel
 * points at ({@link ChannelMoves}), stops an app following when setlive reports the moved-to version FAILED,
 * polls the HTTPS feeds of fed channels (with ETag) and moves their pointers, and reports each channel at
 * {@code channel-status/<name>}. Every write is fenced by the term; a write to an app or a channel is also guarded
 * by that key's mod revision, so an operator's concurrent edit wins and the follower decides again on the new
 * value. Follows the store from the start, writes only between {@link #lead} and {@link #standDown}. All state
 * is confined to one thread.
 */
public final class ChannelFollower implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChannelFollower.class);
    private static final Duration FEED_TIMEOUT = Duration.ofSeconds(5);
    private static final int WATCHES = 4;

    /** How often fed channels are polled. */
    public record Settings(Duration poll) {
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(30));
        }
    }

    private final EtcdStore store;
    private final KeyLayout keys;
    private final String leader;
    private final Settings settings;
    private final ScheduledExecutorService exec;
    private final List<SliceWatch<?>> watches = new ArrayList<>();
    private volatile Fence fence;
    private volatile boolean active = true;

    // confined to exec
    private final Map<String, Entry<AppIntent>> apps = new TreeMap<>();
    private final Map<String, Entry<Channel>> channels = new TreeMap<>();
    private final Map<String, Entry<ChannelStatus>> statuses = new TreeMap<>();
    /** Per app, per host: setlive's FAILED statuses. */
    private final Map<String, Map<String, ChannelMoves.Failure>> failures = new HashMap<>();
    /** Per fed channel: the last feed answer applied (its URL, ETag and manifest), for If-None-Match. */
    private final Map<String, FeedState> feeds = new HashMap<>();
    /** Per fed channel: why its last poll failed. */
    private final Map<String, String> feedErrors = new HashMap<>();
    /** Per app: the mod revision a write was last tried over, so a refused write is not retried in a loop. */
    private final Map<String, Long> tried = new HashMap<>();
    private final Set<String> loaded = new HashSet<>();
    private boolean stepDue;

    private record FeedState(String feed, String etag, ChannelManifest manifest) {
    }

    private ChannelFollower(EtcdStore store, String leader, Settings settings) {
        this.store = store;
        this.keys = store.keys();
        this.leader = leader;
        this.settings = settings;
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "channel-follower");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts following apps, channels, their statuses and setlive's statuses; writes nothing until {@link #lead}. */
    public static ChannelFollower follow(EtcdStore store, String leader, Settings settings) {
        ChannelFollower f = new ChannelFollower(store, leader, settings);
        KeyLayout k = f.keys;
        f.watches.add(store.watchSlice(k.appsPrefix(), AppIntent.class, (changes, rev, relisted) ->
                f.post(() -> f.onChanges("apps", changes, c -> track(f.apps, k.appsPrefix(), c)))));
        f.watches.add(store.watchSlice(k.channelsPrefix(), Channel.class, (changes, rev, relisted) ->
                f.post(() -> f.onChanges("channels", changes, c -> track(f.channels, k.channelsPrefix(), c)))));
        f.watches.add(store.watchSlice(k.channelStatusPrefix(), ChannelStatus.class, (changes, rev, relisted) ->
                f.post(() -> f.onChanges("channel-status", changes,
                        c -> track(f.statuses, k.channelStatusPrefix(), c)))));
        f.watches.add(store.watchSlice(k.statusPrefix(), AgentStatus.class, (changes, rev, relisted) ->
                f.post(() -> f.onChanges("status", changes, f::onStatus))));
        long poll = settings.poll().toMillis();
        f.exec.scheduleWithFixedDelay(() -> f.post(f::pollFeeds), poll, poll, TimeUnit.MILLISECONDS);
        return f;
    }

    private static <T> void track(Map<String, Entry<T>> into, String prefix, SliceWatch.Change<T> c) {
        String name = KeyLayout.childName(prefix, c.key());
        if (name == null) {
            return;
        }
        if (!Names.valid(name)) {
            // etcdctl can write any key; the API refuses such a name, and nothing here can report under it
            log.warn("ignoring {}: '{}' is not a DNS label", c.key(), name);
            return;
        }
        if (c.kind() == SliceWatch.Kind.DELETE) {
            into.remove(name);
        } else {
            into.put(name, c.entry());
        }
    }

    private void onStatus(SliceWatch.Change<AgentStatus> c) {
        String[] parts = c.key().startsWith(keys.statusPrefix())
                ? c.key().substring(keys.statusPrefix().length()).split("/", -1) : new String[0];
        if (parts.length != 3 || !"setlive".equals(parts[2]) || !Names.valid(parts[0]) || !Names.valid(parts[1])) {
            return;
        }
        String host = parts[0];
        String app = parts[1];
        AgentStatus st = c.kind() == SliceWatch.Kind.DELETE || !c.entry().valid() ? null : c.entry().value();
        if (st != null && st.phase() == Phase.FAILED) {
            failures.computeIfAbsent(app, a -> new TreeMap<>()).put(host,
                    new ChannelMoves.Failure(host, st.version(), st.observedRevision(), st.message()));
        } else {
            Map<String, ChannelMoves.Failure> m = failures.get(app);
            if (m != null) {
                m.remove(host);
            }
        }
    }

    /** Begins a term: from now on followers are moved and feeds applied, fenced by {@code f}. */
    public void lead(Fence f) {
        fence = f;
        post(() -> {
            tried.clear();
            step();
            pollFeeds();
        });
    }

    /** Ends the term of {@code f}: no write starts after this returns. */
    public void standDown(Fence f) {
        if (f.equals(fence)) {
            fence = null;
        }
    }

    private <T> void onChanges(String watch, List<SliceWatch.Change<T>> changes,
                               java.util.function.Consumer<SliceWatch.Change<T>> apply) {
        changes.forEach(apply);
        loaded.add(watch);
        if (!stepDue) {
            stepDue = true;
            post(this::step);
        }
    }

    private void post(Runnable r) {
        if (!active) {
            return;
        }
        try {
            exec.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.warn("channel follower step failed ({}); retrying in 1 s", Failures.describe(e));
                    try {
                        exec.schedule(() -> post(this::step), 1, TimeUnit.SECONDS);
                    } catch (RejectedExecutionException stopping) {
                        // stopping
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    private void step() {
        stepDue = false;
        Fence f = fence;
        // act only on a whole view: a failure must not be missed because the status watch is not in yet
        if (f == null || loaded.size() < WATCHES) {
            return;
        }
        moveFollowers(f);
        reportChannels(f);
    }

    private void moveFollowers(Fence f) {
        Instant now = Instant.now();
        for (var e : apps.entrySet()) {
            String app = e.getKey();
            Entry<AppIntent> entry = e.getValue();
            if (!entry.valid() || !entry.value().following()
                    || Long.valueOf(entry.modRevision()).equals(tried.get(app))) {
                continue;
            }
            String name = entry.value().channel().follow();
            var decision = ChannelMoves.decide(app, entry.value(), entry.modRevision(), view(name),
                    List.copyOf(failures.getOrDefault(app, Map.of()).values()), now);
            if (!(decision instanceof ChannelMoves.Write w)) {
                continue;
            }
            tried.put(app, entry.modRevision());
            String key = keys.app(app);
            if (store.commitIf(f, key, entry.modRevision(), List.of(Op.put(key, w.next()), stamp(f)))) {
                log.info("{}: {}", app, w.why());
            } else {
                // an operator's edit (or the end of the term) came first: the watch brings the new value to decide on
                log.info("{}: not written ({}), {} changed meanwhile or the term ended", app, w.why(), key);
            }
        }
    }

    private Op stamp(Fence f) {
        return Op.put(LeaderTerm.key(keys), new LeaderTerm(leader, f.key(), f.createRevision()));
    }

    /** The channel {@code name} as a follower sees it: its value, or why it cannot be followed. */
    private ChannelMoves.ChannelView view(String name) {
        Entry<Channel> e = channels.get(name);
        if (e == null) {
            return ChannelMoves.ChannelView.missing(name);
        }
        String problem = problem(name, e);
        return new ChannelMoves.ChannelView(name, e.value(), problem, e.modRevision());
    }

    private static String problem(String name, Entry<Channel> e) {
        if (!e.valid()) {
            return "channel " + name + " is unreadable: " + e.error();
        }
        List<FieldError> errs = Validation.check(name, e.value());
        if (!errs.isEmpty()) {
            return "channel " + name + " is invalid: " + errs.stream().map(FieldError::toString)
                    .collect(Collectors.joining("; "));
        }
        return null;
    }

    private void reportChannels(Fence f) {
        for (var e : channels.entrySet()) {
            String name = e.getKey();
            Entry<Channel> ch = e.getValue();
            String problem = problem(name, ch);
            String feedError = feedErrors.get(name);
            Channel c = ch.valid() ? ch.value() : null;
            List<String> followers = new ArrayList<>(new TreeSet<>(apps.entrySet().stream()
                    .filter(a -> a.getValue().valid() && a.getValue().value().following()
                            && name.equals(a.getValue().value().channel().follow()))
                    .map(Map.Entry::getKey).toList()));
            String message;
            Phase phase;
            if (problem != null) {
                phase = Phase.FAILED;
                message = problem + "; its followers stay where they are";
            } else if (feedError != null) {
                phase = Phase.FAILED;
                message = feedError + "; the channel stays at " + (c.version() == null ? "no version" : c.version());
            } else if (c.version() == null) {
                phase = Phase.WAITING;
                message = "waiting for the first answer of its feed";
            } else {
                phase = Phase.READY;
                message = "points at " + c.version() + (c.feed() == null ? "" : ", fed from " + c.feed());
            }
            FeedState fs = feeds.get(name);
            ChannelStatus next = new ChannelStatus(phase, c == null ? null : c.version(), ch.modRevision(), message,
                    fs == null ? null : fs.etag(), followers, Instant.now());
            Entry<ChannelStatus> before = statuses.get(name);
            if (before != null && before.valid() && next.sameAs(before.value())) {
                continue;
            }
            if (before != null && before.valid() && before.value().phase() == phase
                    && java.util.Objects.equals(before.value().message(), message)) {
                next = new ChannelStatus(phase, next.version(), next.revision(), message, next.etag(), followers,
                        before.value().since());
            }
            if (!store.commit(f, List.of(Op.put(keys.channelStatus(name), next), stamp(f)))) {
                return;
            }
            if (phase == Phase.FAILED) {
                log.warn("channel {}: {}", name, message);
            }
        }
        for (String gone : List.copyOf(statuses.keySet())) {
            if (!channels.containsKey(gone) && !store.commit(f, List.of(Op.delete(keys.channelStatus(gone)), stamp(f)))) {
                return;
            }
        }
    }

    // ---- feeds

    private void pollFeeds() {
        Fence f = fence;
        if (f == null || loaded.size() < WATCHES) {
            return;
        }
        for (var e : List.copyOf(channels.entrySet())) {
            String name = e.getKey();
            Entry<Channel> ch = e.getValue();
            if (!ch.valid() || ch.value().feed() == null) {
                feeds.remove(name);
                feedErrors.remove(name);
                continue;
            }
            if (problem(name, ch) != null && Validation.check(name, ch.value()).stream()
                    .anyMatch(err -> err.field().equals("feed") || err.field().equals("ca"))) {
                continue;
            }
            poll(f, name, ch);
        }
        step();
    }

    private void poll(Fence f, String name, Entry<Channel> ch) {
        Channel c = ch.value();
        FeedState last = feeds.get(name);
        if (last != null && !last.feed().equals(c.feed())) {
            last = null;
            feeds.remove(name);
        }
        ChannelManifest manifest;
        String etag;
        try {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(c.feed())).timeout(FEED_TIMEOUT)
                    .header("Accept", "application/json");
            if (last != null && last.etag() != null) {
                req.header("If-None-Match", last.etag());
            }
            HttpResponse<byte[]> resp = client(c).send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() == 304 && last != null) {
                manifest = last.manifest();
                etag = last.etag();
            } else if (resp.statusCode() != 200) {
                throw new FeedException("feed " + c.feed() + " answered HTTP " + resp.statusCode());
            } else {
                etag = resp.headers().firstValue("ETag").orElse(null);
                try {
                    manifest = Json.read(resp.body(), ChannelManifest.class);
                } catch (InvalidValueException bad) {
                    throw new FeedException("feed " + c.feed() + " did not serve a channel manifest: "
                            + bad.getMessage());
                }
                List<FieldError> errs = Validation.check(manifest);
                if (!errs.isEmpty()) {
                    throw new FeedException("feed " + c.feed() + " serves an invalid manifest: " + errs.stream()
                            .map(FieldError::toString).collect(Collectors.joining("; ")));
                }
            }
        } catch (FeedException bad) {
            feedErrors.put(name, bad.getMessage());
            return;
        } catch (IOException | RuntimeException | GeneralSecurityException ex) {
            feedErrors.put(name, "feed " + c.feed() + " could not be read: " + describe(ex));
            return;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return;
        }
        feedErrors.remove(name);
        feeds.put(name, new FeedState(c.feed(), etag, manifest));
        if (c.pointsAt(manifest)) {
            return;
        }
        String key = keys.channel(name);
        if (store.commitIf(f, key, ch.modRevision(), List.of(Op.put(key, c.pointedAt(manifest)), stamp(f)))) {
            log.info("channel {} moved to {} by its feed {}", name, manifest.version(), c.feed());
        } else {
            log.info("channel {} changed meanwhile (or the term ended); its feed is applied on the next poll", name);
        }
    }

    private static String describe(Exception ex) {
        String m = ex.getMessage();
        Throwable cause = ex.getCause();
        while (m == null && cause != null) {
            m = cause.getMessage();
            cause = cause.getCause();
        }
        return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** A client trusting the channel's {@code ca} only, or the JDK's CAs without one. Never follows redirects. */
    private static HttpClient client(Channel c) throws IOException, GeneralSecurityException {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(FEED_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        if (c.ca() != null) {
            b.sslContext(trusting(Path.of(c.ca())));
        }
        return b.build();
    }

    private static SSLContext trusting(Path caFile) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            int i = 0;
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca-" + i++, cert);
            }
            if (i == 0) {
                throw new GeneralSecurityException("no certificate in " + caFile);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    /** A feed answer that is not a usable manifest; its message is the channel's status. */
    private static final class FeedException extends Exception {
        FeedException(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        active = false;
        watches.forEach(SliceWatch::close);
        exec.shutdownNow();
    }
}
