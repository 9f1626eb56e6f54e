package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The demo app of {@code test-data/demo-app} (a busybox httpd script answering its version), as tests and
 * benchmarks need it: its tarball, an install of it laid out exactly as the preparer leaves one (extracted under
 * a temp name, marker written last, then renamed into place), and a Docker image of it built locally
 * ({@code docker import} of a busybox rootfs; no registry is needed).
 */
public final class DemoApp {
    private DemoApp() {
    }

    /** {@code test-data/demo-app}, found from the working directory upwards. */
    public static Path dir() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path d = p.resolve("test-data/demo-app");
            if (Files.isRegularFile(d.resolve("bin/server"))) {
                return d;
            }
            p = p.getParent();
        }
        throw new AssertionError("test-data/demo-app/bin/server not found above " + Path.of("").toAbsolutePath());
    }

    /** The demo app's server script. */
    public static String serverScript() {
        try {
            return Files.readString(dir().resolve("bin/server"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A tar.gz at {@code out} holding {@code bin/server} with the given script text. */
    public static Path tarball(Path out, String serverScript) {
        Prerequisites.require("tar", "tar");
        try {
            Path work = Files.createTempDirectory("demo-app-src");
            Path bin = Files.createDirectories(work.resolve("bin"));
            Files.writeString(bin.resolve("server"), serverScript);
            Files.setPosixFilePermissions(bin.resolve("server"), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectories(out.toAbsolutePath().getParent());
            run(List.of("tar", "-czf", out.toAbsolutePath().toString(), "-C", work.toString(), "bin"));
            run(List.of("rm", "-rf", work.toString()));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The demo app's own tarball. */
    public static Path tarball(Path out) {
        return tarball(out, serverScript());
    }

    /**
     * Installs {@code tarball} as {@code <root>/installs/<app>/<version>} the way the preparer does: extract under
     * {@code installs/<app>/.tmp-*}, write the marker {@code .intent-install.json} last, rename into place.
     *
     * @param imageId the marker's image id (Docker versions), or null
     */
    public static Path install(Path root, String app, String version, Path tarball, String imageId) {
        try {
            Path appDir = Files.createDirectories(root.resolve("installs").resolve(app));
            Path tmp = appDir.resolve(".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            Files.createDirectories(tmp);
            run(List.of("tar", "-xzf", tarball.toAbsolutePath().toString(), "-C", tmp.toString()));
            String marker = "{\"app\":\"" + app + "\",\"version\":\"" + version + "\",\"sha256\":\"" + sha256(tarball)
                    + "\"" + (imageId == null ? "" : ",\"imageId\":\"" + imageId + "\"") + ",\"preparedAt\":\""
                    + Instant.now() + "\"}";
            Files.writeString(tmp.resolve(".intent-install.json"), marker);
            Path dest = appDir.resolve(version);
            Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
            return dest;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lowercase hex sha256 of a file. */
    public static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Builds the Docker image {@code tag} locally: a busybox rootfs (Debian busybox-static) with the demo app at
     * {@code /app/bin/server}, imported with {@code docker import}. Returns the image id.
     */
    public static String dockerImage(String tag) {
        return dockerImage(tag, serverScript());
    }

    /** Like {@link #dockerImage(String)} with another {@code /app/bin/server} (e.g. one that cannot start). */
    public static String dockerImage(String tag, String serverScript) {
        Path busybox = Prerequisites.require("busybox", "busybox-static");
        Prerequisites.require("docker", "docker.io");
        try {
            Path rootfs = Files.createTempDirectory("demo-rootfs");
            Path bin = Files.createDirectories(rootfs.resolve("bin"));
            Files.copy(busybox, bin.resolve("busybox"));
            for (String applet : List.of("sh", "httpd", "mkdir", "mv", "printf", "sleep", "echo", "cat", "ls")) {
                Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
            }
            Files.createDirectories(rootfs.resolve("tmp"));
            Path appBin = Files.createDirectories(rootfs.resolve("app/bin"));
            Files.writeString(appBin.resolve("server"), serverScript);
            Files.setPosixFilePermissions(appBin.resolve("server"), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(rootfs.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
            Path tar = rootfs.resolveSibling(rootfs.getFileName() + ".tar");
            run(List.of("tar", "-cf", tar.toString(), "-C", rootfs.toString(), "."));
            String id = run(List.of("docker", "import", tar.toString(), tag)).strip();
            run(List.of("rm", "-rf", rootfs.toString(), tar.toString()));
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command; returns its output, or fails with it. */
    public static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
