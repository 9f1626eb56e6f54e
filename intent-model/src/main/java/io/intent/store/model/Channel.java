package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A release channel at {@code /intent/channels/<name>}: a named, moving pointer to one version with its artifact
 * and sha256 (or pinned image), optionally fed from an HTTPS manifest the leader polls.
 *
 * @param version     the version the channel points at; may be absent only on a fed channel not yet polled
 * @param artifact    as in {@link VersionSpec}
 * @param sha256      as in {@link VersionSpec}; required with {@code artifact}
 * @param image       as in {@link VersionSpec} (apps with {@code runtime: docker})
 * @param format      as in {@link VersionSpec}
 * @param imagePinned as in {@link VersionSpec}
 * @param feed        an {@code https://} URL serving a {@link ChannelManifest}; the leader polls it (with ETag)
 *                    and moves the pointer above when it changes
 * @param ca          a PEM file of the CA(s) to trust for {@code feed} on the leader's host; default: the JDK's
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Channel(String version, String artifact, String sha256, String image, String format,
                      Boolean imagePinned, String feed, String ca) {

    /** The version spec an app following this channel gets. */
    @JsonIgnore
    public VersionSpec versionSpec() {
        return new VersionSpec(artifact, sha256, image, format, imagePinned);
    }

    /** This channel pointed at what {@code m} names, its feed settings kept. */
    public Channel pointedAt(ChannelManifest m) {
        return new Channel(m.version(), m.artifact(), m.sha256(), m.image(), m.format(), m.imagePinned(), feed, ca);
    }

    /** True when this channel points at exactly what {@code m} names. */
    public boolean pointsAt(ChannelManifest m) {
        return java.util.Objects.equals(version, m.version()) && versionSpec().equals(m.versionSpec());
    }
}
