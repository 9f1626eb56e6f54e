package io.intent.store.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One version of an app: an artifact to fetch (with its sha256), or for {@code runtime: docker} an image
 * reference or a {@code docker-archive} artifact.
 *
 * @param artifact {@code http://}, {@code https://} or {@code file://} URL of a tar, tar.gz, zip or docker archive
 * @param sha256   lowercase hex digest of the artifact's bytes; required with {@code artifact}
 * @param image    docker image reference ({@code name:tag}); only for {@code runtime: docker}
 * @param format   {@code tar}, {@code tar.gz}, {@code zip} or {@code docker-archive}; inferred from the URL when absent
 * @param imagePinned whether {@code image} must be pinned by digest ({@code name@sha256:…}); null means true, and
 *                 only an explicit {@code false} lets a version run a moving tag
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VersionSpec(String artifact, String sha256, String image, String format, Boolean imagePinned) {

    public static final String TAR = "tar";
    public static final String TAR_GZ = "tar.gz";
    public static final String ZIP = "zip";
    public static final String DOCKER_ARCHIVE = "docker-archive";

    /** A version without {@code imagePinned} (pinning required for an image, as by default). */
    public VersionSpec(String artifact, String sha256, String image, String format) {
        this(artifact, sha256, image, format, null);
    }

    /** True unless the intent said {@code imagePinned: false}. */
    public boolean imagePinnedOrDefault() {
        return imagePinned == null || imagePinned;
    }

    /** The archive format: the explicit one, else guessed from the artifact's name, else tar.gz. */
    public String formatOrInferred() {
        if (format != null) {
            return format;
        }
        String a = artifact == null ? "" : artifact.toLowerCase();
        if (a.endsWith(".zip")) {
            return ZIP;
        }
        if (a.endsWith(".tar")) {
            return TAR;
        }
        return TAR_GZ;
    }
}
