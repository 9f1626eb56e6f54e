package io.intent.preparer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Builds real images in the local dockerd without a registry: a busybox-static rootfs tarball, {@code docker
 * import}, and {@code docker save} for docker-archive artifacts. Removes what it made on {@link #close()}.
 */
final class LocalImages implements AutoCloseable {
    private final List<String> made = new ArrayList<>();

    /** Fails (never skips) with how to fix it when dockerd or busybox-static is missing. */
    static void requireDocker() {
        io.intent.testkit.Prerequisites.require("docker", "docker.io");
        if (!Files.isExecutable(Path.of("/bin/busybox"))) {
            throw new AssertionError("/bin/busybox is missing: apt-get install -y busybox-static");
        }
        String out = run("docker", "info", "--format", "{{.ServerVersion}}");
        if (out == null) {
            throw new AssertionError("`docker info` failed: dockerd is not running. Start it (./intent prereqs "
                    + "does, or: nohup dockerd &) and run the tests again");
        }
    }

    /** Imports a new, unique busybox image as {@code ref} and returns its id. */
    String build(String ref, Path work) throws IOException {
        Path rootfs = work.resolve("rootfs-" + UUID.randomUUID() + ".tar");
        try (OutputStream os = Files.newOutputStream(rootfs)) {
            Archives.of().file("bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755)
                    .symlink("bin/sh", "busybox")
                    .file("etc/intent-test-id", UUID.randomUUID().toString())
                    .writeTar(os);
        }
        made.add(ref);
        String id = run("docker", "import", rootfs.toString(), ref);
        if (id == null) {
            throw new AssertionError("docker import of " + ref + " failed");
        }
        return id.strip();
    }

    /** {@code docker save}s {@code ref} to a file. */
    Path save(String ref, Path file) {
        if (run("docker", "save", "-o", file.toString(), ref) == null) {
            throw new AssertionError("docker save " + ref + " failed");
        }
        return file;
    }

    /** The engine's id for {@code ref}, or null when it does not have it. */
    static String idOf(String ref) {
        String out = run("docker", "image", "inspect", "--format", "{{.Id}}", ref);
        return out == null ? null : out.strip();
    }

    static void remove(String ref) {
        run("docker", "rmi", "-f", ref);
    }

    static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            p.getErrorStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Forgets {@code ref} so close() leaves it (e.g. the agent is expected to have removed it). */
    void track(String idOrRef) {
        made.add(idOrRef);
    }

    @Override
    public void close() {
        made.forEach(LocalImages::remove);
    }
}
