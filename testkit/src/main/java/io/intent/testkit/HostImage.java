package io.intent.testkit;

import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The base image of container hosts, {@code intent-host:<hash>}: a Debian bookworm root file system made by
 * {@code mmdebstrap} from {@code host-image/packages.txt} and turned into an image {@code FROM scratch} with
 * Testcontainers' {@link ImageFromDockerfile}; no registry is involved. The tag is a hash of its inputs (the
 * package list, the Dockerfile and the suite), so it is built once per machine and again only when they change.
 * intent's jars are not in it: {@link ContainerHosts} mounts the build's classpath into every container.
 */
public final class HostImage {
    /** The Debian suite the image is made from. */
    public static final String SUITE = "bookworm";
    private static final String RESOURCES = "/io/intent/testkit/host-image/";

    private HostImage() {
    }

    /** The packages the image holds, from {@code packages.txt} (comments and blank lines dropped). */
    public static List<String> packages() {
        List<String> out = new ArrayList<>();
        for (String line : resource("packages.txt").split("\n")) {
            String p = line.strip();
            if (!p.isEmpty() && !p.startsWith("#")) {
                out.add(p);
            }
        }
        return out;
    }

    /** {@code intent-host:<first 16 hex digits of sha256(suite, packages, Dockerfile)>}. */
    public static String tag() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((SUITE + "\n" + String.join("\n", packages()) + "\n" + resource("Dockerfile"))
                    .getBytes(StandardCharsets.UTF_8));
            return "intent-host:" + HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Returns the image's tag, building the image first if this machine's dockerd does not have it yet (about
     * 70 s for mmdebstrap, 20 s to import). Concurrent JVMs wait for one another on a file lock.
     *
     * @throws AssertionError when mmdebstrap is missing or cannot fetch from the Debian mirror, saying so
     */
    public static String ensure() {
        String tag = tag();
        if (exists(tag)) {
            return tag;
        }
        Path lockFile = Path.of(System.getProperty("java.io.tmpdir"), "intent-host-image.lock");
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.lock()) {
            if (!exists(tag)) {
                build(tag);
            }
            return tag;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean exists(String tag) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(tag).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private static void build(String tag) throws IOException {
        Prerequisites.requireRoot("building the container hosts' image with mmdebstrap");
        Prerequisites.require("mmdebstrap", "mmdebstrap");
        Path dir = Files.createTempDirectory("intent-host-image-");
        try {
            Path tar = dir.resolve("root.tar");
            List<String> cmd = List.of("mmdebstrap", "--variant=apt", "--include=" + String.join(",", packages()),
                    SUITE, tar.toString());
            System.err.println("HostImage: building " + tag + ": " + String.join(" ", cmd));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("mmdebstrap.log").toFile()).start();
            if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                String log = Files.readString(dir.resolve("mmdebstrap.log"));
                throw new AssertionError("mmdebstrap could not make the container hosts' root file system (is the "
                        + "Debian mirror deb.debian.org reachable? see docs/container-hosts.md):\n"
                        + log.substring(Math.max(0, log.length() - 3000)));
            }
            long t1 = System.nanoTime();
            Path dockerfile = Files.writeString(dir.resolve("Dockerfile"), resource("Dockerfile"));
            new ImageFromDockerfile(tag, false).withFileFromPath("Dockerfile", dockerfile)
                    .withFileFromPath("root.tar", tar).get(10, TimeUnit.MINUTES);
            System.err.printf("HostImage: %s built: mmdebstrap %d s, image %d s%n", tag,
                    TimeUnit.NANOSECONDS.toSeconds(t1 - t0), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while building " + tag, e);
        } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
            throw new AssertionError("docker could not build " + tag + ": " + e.getMessage(), e);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** A text resource of {@code host-image/}. */
    public static String resource(String name) {
        try (InputStream in = HostImage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCES + name + " missing from testkit");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Builds the image if needed and prints its tag: {@code ./intent test} runs this before the suite. */
    public static void main(String[] args) {
        System.out.println(ensure());
    }
}
