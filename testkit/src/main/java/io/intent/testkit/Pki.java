package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A private CA made at test time by the shipped {@code etc/tls/make-certs.sh} (openssl), exactly as an operator
 * makes one: {@code ca.pem} plus one PEM certificate and PKCS#8 key per name.
 */
public final class Pki {
    private final Path dir;

    private Pki(Path dir) {
        this.dir = dir;
    }

    /** Makes a fresh CA in {@code dir}. */
    public static Pki create(Path dir) {
        Prerequisites.require("openssl", "openssl");
        Pki pki = new Pki(dir);
        pki.run(List.of("ca"));
        return pki;
    }

    /** One certificate and its key. */
    public record Cert(Path cert, Path key) {
    }

    /**
     * Issues (or keeps) the certificate {@code name}, valid for server and client use, for the given addresses:
     * each an IP literal or a DNS name.
     */
    public Cert issue(String name, String... addresses) {
        List<String> args = new ArrayList<>(List.of("cert", name));
        for (String a : addresses) {
            args.add(a.matches("[0-9.]+|.*:.*") ? "--ip" : "--dns");
            args.add(a);
        }
        run(args);
        return new Cert(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"));
    }

    /** The CA certificate clients trust. */
    public Path ca() {
        return dir.resolve("ca.pem");
    }

    /** A TLS context that trusts this CA only, as a client configured with {@code ca.pem} would. */
    public SSLContext sslContext() {
        try (var in = Files.newInputStream(ca())) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot load " + ca() + ": " + e.getMessage(), e);
        }
    }

    private void run(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(script().toString(), "--dir", dir.toString()));
        cmd.addAll(args);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("etc/tls/make-certs.sh " + String.join(" ", args) + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running make-certs.sh", e);
        }
    }

    /** The shipped script, found from the working directory (a module directory or the repository root). */
    public static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("etc/tls/make-certs.sh");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        throw new AssertionError("etc/tls/make-certs.sh not found above " + Path.of("").toAbsolutePath());
    }
}
