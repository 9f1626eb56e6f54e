package io.intent.preparer;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import io.intent.store.codec.Json;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The local Docker engine as the preparer uses it (docker-java): is an image present, pull one, {@code docker
 * load} an archive, remove one. Connected lazily, so hosts without docker apps need no dockerd.
 */
final class DockerImages implements AutoCloseable {
    private static final Pattern HEX = Pattern.compile("([0-9a-f]{64})");
    private final DockerClient client;

    private DockerImages(DockerClient client) {
        this.client = client;
    }

    /** Connects to the engine named by DOCKER_HOST (default unix:///var/run/docker.sock). */
    static DockerImages connect() {
        DefaultDockerClientConfig cfg = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withApiVersion("1.41").build();
        ZerodepDockerHttpClient http = new ZerodepDockerHttpClient.Builder()
                .dockerHost(cfg.getDockerHost())
                .sslConfig(cfg.getSSLConfig())
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofMinutes(10))
                .build();
        return new DockerImages(DockerClientImpl.getInstance(cfg, http));
    }

    /** The id of a local image (by reference or id), or empty when the engine does not have it. */
    Optional<String> imageId(String ref) throws PrepareException {
        try {
            return Optional.ofNullable(client.inspectImageCmd(ref).exec().getId());
        } catch (NotFoundException e) {
            return Optional.empty();
        } catch (RuntimeException e) {
            throw unreachable("inspecting image " + ref, e);
        }
    }

    /** Pulls {@code ref} and returns its id; a registry that cannot be reached gives a clear failure. */
    String pull(String ref, Duration timeout) throws PrepareException {
        try {
            var cmd = client.pullImageCmd(ref);
            int slash = ref.lastIndexOf('/');
            int colon = ref.lastIndexOf(':');
            if (!ref.contains("@") && colon > slash) {
                cmd = client.pullImageCmd(ref.substring(0, colon)).withTag(ref.substring(colon + 1));
            }
            boolean done = cmd.exec(new PullImageResultCallback()).awaitCompletion(timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            if (!done) {
                throw new PrepareException("image " + ref + " is not present locally and pulling it took longer "
                        + "than " + timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PrepareException("pull of " + ref + " interrupted");
        } catch (RuntimeException e) {
            throw new PrepareException("image " + ref + " is not present locally and pulling it failed: "
                    + oneLine(e), e);
        }
        return imageId(ref).orElseThrow(() -> new PrepareException("pulled " + ref + " but the engine does not "
                + "list it"));
    }

    /**
     * The id of the single image a {@code docker save} archive (tar, optionally gzipped) holds, read from its
     * {@code manifest.json}, so the id is known (and recorded) before the load.
     */
    static String archiveImageId(Path archive) throws IOException, PrepareException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive), 1 << 16)) {
            raw.mark(2);
            boolean gz = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gz ? new GZIPInputStream(raw, 1 << 16) : raw;
            TarArchiveInputStream tar = new TarArchiveInputStream(in);
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.getName().equals("manifest.json") || e.getName().equals("./manifest.json")) {
                    if (e.getSize() > 1 << 20) {
                        throw new PrepareException("docker-archive manifest.json is implausibly large");
                    }
                    JsonNode m = Json.tree(tar.readAllBytes());
                    if (!m.isArray() || m.size() != 1) {
                        throw new PrepareException("docker-archive must hold exactly one image; its manifest.json "
                                + "lists " + (m.isArray() ? m.size() : "none"));
                    }
                    Matcher h = HEX.matcher(m.get(0).path("Config").asText(""));
                    if (!h.find()) {
                        throw new PrepareException("docker-archive manifest.json has no image config digest");
                    }
                    return "sha256:" + h.group(1);
                }
            }
        } catch (IllegalArgumentException | java.util.zip.ZipException e) {
            throw new PrepareException("docker-archive is not a readable tar: " + e.getMessage(), e);
        }
        throw new PrepareException("docker-archive has no manifest.json (is it the output of docker save?)");
    }

    /** {@code docker load}s the archive and checks the engine now has {@code expectedId}. */
    void load(Path archive, String expectedId) throws IOException, PrepareException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(archive), 1 << 16)) {
            client.loadImageCmd(in).exec();
        } catch (RuntimeException e) {
            throw unreachable("docker load of " + archive.getFileName(), e);
        }
        if (imageId(expectedId).isEmpty()) {
            throw new PrepareException("docker load finished but image " + expectedId + " is not in the engine");
        }
    }

    /** Removes an image; false when a container still uses it (it stays, and is retried later). */
    boolean remove(String id) throws PrepareException {
        try {
            client.removeImageCmd(id).withForce(false).exec();
            return true;
        } catch (NotFoundException e) {
            return true;
        } catch (ConflictException e) {
            return false;
        } catch (RuntimeException e) {
            throw unreachable("removing image " + id, e);
        }
    }

    private static PrepareException unreachable(String what, RuntimeException e) {
        String hint = e instanceof DockerException ? "" : " (is dockerd running? `docker info` must work)";
        return new PrepareException(what + " failed: " + oneLine(e) + hint, e);
    }

    private static String oneLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        m = m.replaceAll("\\s+", " ").strip();
        return m.length() > 400 ? m.substring(0, 400) + "…" : m;
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
