package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the leader reports about one channel at {@code /intent/channel-status/<name>}: whether the channel (and
 * its feed) is usable, the version it points at, and which apps follow it.
 *
 * @param phase     {@code READY}, or {@code FAILED} when the channel's value or its feed is bad (followers stay put)
 * @param version   the version the channel points at, if any
 * @param revision  the channel key's mod revision this status is about
 * @param message   what is wrong, or what the channel points at
 * @param etag      the feed's last ETag that was applied (sent back as {@code If-None-Match})
 * @param followers the apps following the channel now
 * @param since     when the phase or message last changed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChannelStatus(Phase phase, String version, long revision, String message, String etag,
                            List<String> followers, Instant since) {

    public ChannelStatus {
        followers = followers == null ? List.of() : List.copyOf(followers);
    }

    /** Same content, ignoring {@code since}: a write is needed only when this differs. */
    public boolean sameAs(ChannelStatus o) {
        return o != null && phase == o.phase && Objects.equals(version, o.version) && revision == o.revision
                && Objects.equals(message, o.message) && Objects.equals(etag, o.etag)
                && followers.equals(o.followers);
    }
}
