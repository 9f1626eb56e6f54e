package io.intent.agent;

import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The on-disk contract between the preparer and setlive, under one host's root:
 * <pre>
 *   installs/&lt;app&gt;/&lt;version&gt;/                 a complete install (appears only by rename(2))
 *   installs/&lt;app&gt;/&lt;version&gt;/.intent-install.json   the marker, written last, before the rename
 *   installs/&lt;app&gt;/.tmp-*                          work in progress, never looked at by setlive
 *   apps/&lt;app&gt;/current -&gt; ../../installs/&lt;app&gt;/&lt;version&gt;   the live version (swapped by rename(2))
 *   services/&lt;app&gt;/                               setlive's runit service dir
 *   cache/&lt;sha256&gt;                                 downloaded artifacts, shared across apps
 * </pre>
 * An install counts as complete only when its marker exists and parses: setlive never needs to know the
 * preparer exists. Every path is built from validated names, so none escapes the root.
 */
public final class InstallLayout {
    /** Name of the marker file inside a complete install. */
    public static final String MARKER = ".intent-install.json";
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");

    /**
     * What the marker records.
     *
     * @param imageId for docker versions, the local image id the preparer made present; null otherwise
     */
    public record Marker(String app, String version, String sha256, String imageId, Instant preparedAt) {
    }

    private final Path root;

    public InstallLayout(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public static String requireVersion(String version) {
        if (version == null || !VERSION.matcher(version).matches() || version.contains("..")) {
            throw new InvalidValueException("version '" + version + "' is not a valid version name");
        }
        return version;
    }

    public Path installsDir() {
        return root.resolve("installs");
    }

    public Path appInstalls(String app) {
        return installsDir().resolve(Names.require("app", app));
    }

    public Path install(String app, String version) {
        return appInstalls(app).resolve(requireVersion(version));
    }

    public Path marker(String app, String version) {
        return install(app, version).resolve(MARKER);
    }

    public Path appsDir() {
        return root.resolve("apps");
    }

    public Path appDir(String app) {
        return appsDir().resolve(Names.require("app", app));
    }

    /** The {@code current} symlink of an app. */
    public Path current(String app) {
        return appDir(app).resolve("current");
    }

    public Path servicesDir() {
        return root.resolve("services");
    }

    public Path service(String app) {
        return servicesDir().resolve(Names.require("app", app));
    }

    public Path cacheDir() {
        return root.resolve("cache");
    }

    /** The marker of a complete install, or empty when the install is missing or incomplete. */
    public Optional<Marker> completed(String app, String version) {
        Path m = marker(app, version);
        if (!Files.isRegularFile(m)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.read(Files.readAllBytes(m), Marker.class));
        } catch (IOException | InvalidValueException e) {
            return Optional.empty();
        }
    }

    /** The version {@code current} points to, or empty. */
    public Optional<String> currentVersion(String app) {
        try {
            Path target = Files.readSymbolicLink(current(app));
            return Optional.of(target.getFileName().toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
