package io.intent.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the real components tests run against, and fails loudly (never skips) when one is missing, saying
 * which Debian package to install.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    /** The executable {@code name} from PATH (or /usr/sbin, /sbin for admin tools), or empty. */
    public static Optional<Path> find(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * The executable {@code name} from PATH.
     *
     * @throws AssertionError naming the Debian package to install, so the test fails instead of skipping
     */
    public static Path require(String name, String debianPackage) {
        return find(name).orElseThrow(() -> new AssertionError(name + " is not on PATH: this test needs the real "
                + name + ". Install it with `apt-get install -y " + debianPackage
                + "` (./intent test installs every prerequisite on Debian)."));
    }

    /** Fails unless the process runs as root (network namespaces, iptables). */
    public static void requireRoot(String why) {
        String user = System.getProperty("user.name");
        if (!"root".equals(user)) {
            throw new AssertionError(why + " needs root (running as " + user + "); run the tests as root, "
                    + "as ./intent test and CI do.");
        }
    }
}
