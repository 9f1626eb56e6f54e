package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Turns on etcd auth by running the shipped {@code etc/etcd/setup-rbac.sh} exactly as an operator would. */
public final class Rbac {
    /** The password of etcd's root user in tests. */
    public static final String ROOT_PASSWORD = "test-root-password";

    private final Path secrets;

    private Rbac(Path secrets) {
        this.secrets = secrets;
    }

    /**
     * Runs the script against {@code endpoints} with one user per host; the passwords go to {@code work/secrets}.
     *
     * @throws AssertionError with the script's output when it fails
     */
    public static Rbac setup(List<String> endpoints, Path work, String... hosts) {
        return setup(endpoints, null, work, hosts);
    }

    /**
     * As {@link #setup(List, Path, String...)} against a TLS etcd ({@code https} endpoints) whose certificates
     * {@code ca} signed: the script's etcdctl gets it as an operator gives it, through {@code ETCDCTL_CACERT}.
     */
    public static Rbac setup(List<String> endpoints, Path ca, Path work, String... hosts) {
        Prerequisites.require("etcdctl", "etcd-client");
        try {
            Files.createDirectories(work);
            Path rootPw = work.resolve("root.pw");
            Files.writeString(rootPw, ROOT_PASSWORD);
            List<String> cmd = new ArrayList<>(List.of(script().toString(), "--endpoints", String.join(",", endpoints),
                    "--root-password-file", rootPw.toString(), "--secrets-dir", work.resolve("secrets").toString()));
            cmd.addAll(List.of(hosts));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (ca != null) {
                pb.environment().put("ETCDCTL_CACERT", ca.toString());
            }
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("etc/etcd/setup-rbac.sh failed:\n" + out);
            }
            return new Rbac(work.resolve("secrets"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running setup-rbac.sh", e);
        }
    }

    /** The shipped script, found from the working directory (a module directory or the repository root). */
    public static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("etc/etcd/setup-rbac.sh");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        throw new AssertionError("etc/etcd/setup-rbac.sh not found above " + Path.of("").toAbsolutePath());
    }

    /** The password file the script wrote for {@code user}. */
    public Path passwordFile(String user) {
        return secrets.resolve(user + ".password");
    }

    /** The password the script made for {@code user}. */
    public String password(String user) {
        try {
            return Files.readString(passwordFile(user)).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
