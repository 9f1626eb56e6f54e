package io.intent.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * intent installed under a temporary prefix as {@code ./intent install PREFIX} lays it out ({@code bin/} of
 * launchers running each main class), on this test's classpath instead of copied jars, and the shipped
 * systemd units with {@code /opt/intent} moved to that prefix: nothing else of them changes.
 */
final class InstalledLaunchers {
    static final Path ETC = Path.of("..", "etc");
    static final Map<String, String> MAINS = Map.of(
            "intent-node", "io.intent.node.NodeMain", "intent-leader", "io.intent.leader.LeaderMain",
            "intent-api", "io.intent.api.ApiMain", "intent-preparer", "io.intent.preparer.PreparerMain",
            "intent-iptables", "io.intent.iptables.IptablesMain", "intent-setlive", "io.intent.setlive.SetliveMain");

    private InstalledLaunchers() {
    }

    /** Writes {@code prefix/bin/intent-*} (the same script ./intent install writes) and returns {@code prefix/bin}. */
    static Path install(Path prefix) {
        try {
            Path bin = Files.createDirectories(prefix.resolve("bin"));
            String java = ProcessHandle.current().info().command().orElse("java");
            for (var e : MAINS.entrySet()) {
                Path launcher = bin.resolve(e.getKey());
                Files.writeString(launcher, "#!/bin/sh\n# " + e.getKey() + ", installed for a test\nexec " + java
                        + " ${INTENT_JAVA_OPTS:-} -cp '" + System.getProperty("java.class.path") + "' " + e.getValue()
                        + " \"$@\"\n");
                Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            return bin;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the shipped unit {@code name} into {@code dir} with /opt/intent/ replaced by {@code prefix}. */
    static Path unit(String name, Path prefix, Path dir) {
        try {
            String text = Files.readString(ETC.resolve("systemd").resolve(name));
            return Files.writeString(Files.createDirectories(dir).resolve(name),
                    text.replace("/opt/intent/", prefix.toAbsolutePath() + "/"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
