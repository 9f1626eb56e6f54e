package io.intent.dispatcher;

import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelFollow;
import io.intent.store.model.VersionSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What the leader writes to an app that follows a channel, a pure function: move it to the channel's version
 * (adding that version and making it active), stop following after a failed rollout of the version it moved to,
 * or nothing. The write itself is the caller's, fenced and guarded by the app's mod revision.
 */
public final class ChannelMoves {
    /** How many versions the leader itself added are kept in {@code versions} (the new one, and the ones before). */
    public static final int KEEP_ADDED = 3;
    /** The most versions an intent may list ({@link Validation}'s limit). */
    static final int MAX_VERSIONS = 32;

    private ChannelMoves() {
    }

    /**
     * The channel an app follows, as the leader read it.
     *
     * @param value    the decoded channel, null when the key is missing or unreadable
     * @param problem  why it cannot be followed (unreadable, invalid, no version yet), null when it can
     * @param revision the channel key's mod revision
     */
    public record ChannelView(String name, Channel value, String problem, long revision) {
        public static ChannelView missing(String name) {
            return new ChannelView(name, null, "channel " + name + " does not exist", 0);
        }
    }

    /** A setlive status of FAILED for one instance of the app. */
    public record Failure(String host, String version, long observedRevision, String message) {
    }

    /** The outcome: a new intent to write (with why, for the log), or nothing (with why, for the status). */
    public sealed interface Decision {
    }

    /** Nothing to write; {@code why} says what the app waits for, null when it is simply up to date. */
    public record Stay(String why) implements Decision {
    }

    /** Write {@code next} over the app's current value; {@code stops} when this write ends the following. */
    public record Write(AppIntent next, String why, boolean stops) implements Decision {
    }

    /**
     * Decides for app {@code app} whose intent is {@code intent} at mod revision {@code appRevision}.
     *
     * @param failures setlive FAILED statuses of the app's instances (any version, any revision)
     */
    public static Decision decide(String app, AppIntent intent, long appRevision, ChannelView channel,
                                  List<Failure> failures, Instant now) {
        ChannelFollow block = intent.channel();
        if (block == null || !block.following()) {
            return new Stay(null);
        }
        // a failure of the version the last move made active, reported about a revision after that move
        if (block.version() != null && block.appRevision() != null && block.version().equals(intent.active())) {
            List<Failure> failed = failures.stream()
                    .filter(f -> block.version().equals(f.version()) && f.observedRevision() > block.appRevision())
                    .sorted(java.util.Comparator.comparing(Failure::host))
                    .toList();
            if (!failed.isEmpty()) {
                Failure f = failed.get(0);
                String why = "rollout of " + block.version() + " from channel " + block.follow() + " failed on "
                        + failed.stream().map(Failure::host).collect(Collectors.joining(", ")) + " (" + f.host()
                        + ": " + f.message() + "); stopped following, waiting for an operator";
                return new Write(intent.withChannel(block.stop(why, now)), why, true);
            }
        }
        if (channel.problem() != null || channel.value() == null || channel.value().version() == null) {
            return new Stay(channel.problem() != null ? channel.problem()
                    : "channel " + channel.name() + " points at no version yet");
        }
        Channel ch = channel.value();
        String v = ch.version();
        VersionSpec spec = ch.versionSpec();
        boolean fresh = block.revision() == null;
        if (!fresh && v.equals(block.version())) {
            // the channel still points where it did (or was rewritten alike): an operator's change of active stays
            return new Stay(null);
        }
        VersionSpec listed = intent.versions().get(v);
        if (listed != null && !listed.equals(spec)) {
            return stop(intent, block, now, "version " + v + " of channel " + channel.name() + " differs from the "
                    + "app's own version " + v + " (artifact, sha256 or image); not moved");
        }
        Map<String, VersionSpec> versions = new LinkedHashMap<>(intent.versions());
        List<String> added = new ArrayList<>(block.addedOrEmpty());
        added.retainAll(versions.keySet());
        if (listed == null) {
            versions.put(v, spec);
            added.add(v);
        }
        // prune only what the leader added itself, never the version running now or the new one
        for (String old : List.copyOf(added)) {
            if (added.size() <= KEEP_ADDED && versions.size() <= MAX_VERSIONS) {
                break;
            }
            if (!old.equals(v) && !old.equals(intent.active())) {
                versions.remove(old);
                added.remove(old);
            }
        }
        ChannelFollow moved = new ChannelFollow(block.follow(), v, channel.revision(), appRevision, now, null, null,
                added.isEmpty() ? null : added);
        AppIntent next = intent.withVersions(versions).withActive(v).withChannel(moved);
        List<FieldError> errs = Validation.check(app, next);
        if (!errs.isEmpty()) {
            return stop(intent, block, now, "moving to " + v + " from channel " + channel.name()
                    + " would make the intent invalid: " + errs.stream().map(FieldError::toString)
                    .collect(Collectors.joining("; ")) + "; not moved");
        }
        String from = intent.active() == null ? "nothing" : intent.active();
        return new Write(next, "channel " + channel.name() + "@" + channel.revision() + " moved " + app + " from "
                + from + " to " + v, false);
    }

    private static Decision stop(AppIntent intent, ChannelFollow block, Instant now, String why) {
        String full = why + "; stopped following, waiting for an operator";
        return new Write(intent.withChannel(block.stop(full, now)), full, true);
    }
}
