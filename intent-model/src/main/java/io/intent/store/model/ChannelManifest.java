package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The small JSON document a channel's feed URL serves: {@code {"version": "2.0", "artifact": "https://…",
 * "sha256": "…"}} (or {@code image} for Docker apps). Read strictly: an unknown field is an error.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChannelManifest(String version, String artifact, String sha256, String image, String format,
                              Boolean imagePinned) {

    @JsonIgnore
    public VersionSpec versionSpec() {
        return new VersionSpec(artifact, sha256, image, format, imagePinned);
    }
}
