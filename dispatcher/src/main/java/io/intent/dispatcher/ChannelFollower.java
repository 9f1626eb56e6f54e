package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelManifest;
import io.intent.store.model.ChannelStatus;
import io.intent.store.model.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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
public final class ChannelFollower extends TermFollower {
    private static final Logger log = LoggerFactory.getLogger(ChannelFollower.class);

    /** How often fed channels are polled. */
    public record Settings(Duration poll) {
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(30));
        }
    }

    private final String leader;

    // confined to exec
    private final Map<String, Entry<AppIntent>> apps = new TreeMap<>();
    private final Map<String, Entry<Channel>> channels = new TreeMap<>();
    private final Map<String, Entry<ChannelStatus>> statuses = new TreeMap<>();
    /** Per app, per host: setlive's FAILED statuses. */
    private final Map<String, Map<String, ChannelMoves.Failure>> failures = new HashMap<>();
    private final ChannelFeeds feeds = new ChannelFeeds();
    /** Per app: the mod revision a write was last tried over, so a refused write is not retried in a loop. */
    private final Map<String, Long> tried = new HashMap<>();

    private ChannelFollower(EtcdStore store, String leader) {
        super(store, "channel-follower", "channel follower", 4);
        this.leader = leader;
    }

    /** Starts following apps, channels, their statuses and setlive's statuses; writes nothing until {@link #lead}. */
    public static ChannelFollower follow(EtcdStore store, String leader, Settings settings) {
        ChannelFollower f = new ChannelFollower(store, leader);
        KeyLayout k = f.keys;
        f.watch(k.appsPrefix(), AppIntent.class, changes -> track(f.apps, k.appsPrefix(), changes));
        f.watch(k.channelsPrefix(), Channel.class, changes -> track(f.channels, k.channelsPrefix(), changes));
        f.watch(k.channelStatusPrefix(), ChannelStatus.class,
                changes -> track(f.statuses, k.channelStatusPrefix(), changes));
        f.watch(k.statusPrefix(), AgentStatus.class, changes -> changes.forEach(f::onStatus));
        long poll = settings.poll().toMillis();
        f.exec.scheduleWithFixedDelay(() -> f.post(f::pollFeeds), poll, poll, TimeUnit.MILLISECONDS);
        return f;
    }

    private void onStatus(SliceWatch.Change<AgentStatus> c) {
        Slot slot = InstanceHealth.setliveSlot(keys.statusPrefix(), c.key());
        if (slot == null) {
            return;
        }
        String host = slot.host();
        String app = slot.app();
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

    @Override
    protected void termBegan() {
        tried.clear();
        step();
        pollFeeds();
    }

    /** Acts only on a whole view: a failure must not be missed because the status watch is not in yet. */
    @Override
    protected void act(Fence f) {
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
            ChannelStatus next = status(name, e.getValue());
            Entry<ChannelStatus> before = statuses.get(name);
            if (before != null && before.valid() && next.sameAs(before.value())) {
                continue;
            }
            if (before != null && before.valid() && before.value().phase() == next.phase()
                    && Objects.equals(before.value().message(), next.message())) {
                next = new ChannelStatus(next.phase(), next.version(), next.revision(), next.message(), next.etag(),
                        next.followers(), before.value().since());
            }
            if (!store.commit(f, List.of(Op.put(keys.channelStatus(name), next), stamp(f)))) {
                return;
            }
            if (next.phase() == Phase.FAILED) {
                log.warn("channel {}: {}", name, next.message());
            }
        }
        for (String gone : List.copyOf(statuses.keySet())) {
            if (!channels.containsKey(gone) && !store.commit(f, List.of(Op.delete(keys.channelStatus(gone)), stamp(f)))) {
                return;
            }
        }
    }

    /** What channel {@code name} reports now: its phase and why, with the apps that follow it. */
    private ChannelStatus status(String name, Entry<Channel> ch) {
        String problem = problem(name, ch);
        String feedError = feeds.error(name);
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
        return new ChannelStatus(phase, c == null ? null : c.version(), ch.modRevision(), message,
                feeds.etag(name), followers, Instant.now());
    }

    // ---- feeds

    private void pollFeeds() {
        Fence f = actingFence();
        if (f == null) {
            return;
        }
        for (var e : List.copyOf(channels.entrySet())) {
            String name = e.getKey();
            Entry<Channel> ch = e.getValue();
            if (!ch.valid() || ch.value().feed() == null) {
                feeds.forget(name);
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
        ChannelManifest manifest = feeds.poll(name, c);
        if (manifest == null || c.pointsAt(manifest)) {
            return;
        }
        String key = keys.channel(name);
        if (store.commitIf(f, key, ch.modRevision(), List.of(Op.put(key, c.pointedAt(manifest)), stamp(f)))) {
            log.info("channel {} moved to {} by its feed {}", name, manifest.version(), c.feed());
        } else {
            log.info("channel {} changed meanwhile (or the term ended); its feed is applied on the next poll", name);
        }
    }
}
