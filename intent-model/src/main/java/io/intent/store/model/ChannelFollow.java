package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * The {@code channel} block of an app intent: the channel an operator asked the app to follow, and what the
 * leader did about it (the provenance of every change it made to the intent), or why it stopped following.
 *
 * @param follow      the channel to follow (operator); kept after following stopped, to say which one it was
 * @param version     the version the leader last took from the channel and made active (leader)
 * @param revision    the channel key's mod revision that move came from (leader): which channel move caused it
 * @param appRevision the app's mod revision the move was written over (leader); a setlive failure of
 *                    {@code version} about a later app revision is a failure of this move
 * @param movedAt     when the leader wrote the move (leader)
 * @param stopped     why the app stopped following (leader), null while it follows; an operator follows again
 *                    by writing a fresh block {@code {"follow": "<channel>"}}
 * @param stoppedAt   when it stopped (leader)
 * @param added       versions the leader added to {@code versions}, oldest first; only these are ever pruned
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChannelFollow(String follow, String version, Long revision, Long appRevision, Instant movedAt,
                            String stopped, Instant stoppedAt, List<String> added) {

    public ChannelFollow {
        added = added == null ? null : List.copyOf(added);
    }

    /** A fresh request to follow {@code channel}: the leader adopts the channel's version at once. */
    public static ChannelFollow of(String channel) {
        return new ChannelFollow(channel, null, null, null, null, null, null, null);
    }

    @JsonIgnore
    public boolean following() {
        return follow != null && stopped == null;
    }

    public List<String> addedOrEmpty() {
        return added == null ? List.of() : added;
    }

    public ChannelFollow stop(String why, Instant at) {
        return new ChannelFollow(follow, version, revision, appRevision, movedAt, why, at, added);
    }
}
