package io.intent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The TLS trust of {@code --cacert}: built only when a CA file is given (an http call never touches TLS). */
final class CaTrust {
    private CaTrust() {
    }

    /**
     * A TLS context trusting exactly the PEM certificates in {@code caFile} (a private CA's {@code ca.pem}).
     *
     * @throws CtlException (usage, exit 2) naming the file when it cannot be read or holds no certificate
     */
    static SSLContext trusting(Path caFile) {
        try (var in = Files.newInputStream(caFile)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int n = 0;
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca-" + n++, c);
            }
            if (n == 0) {
                throw new CtlException(2, "--cacert " + caFile + ": no certificate in it (expected PEM "
                        + "-----BEGIN CERTIFICATE-----)");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException e) {
            throw new CtlException(2, "--cacert " + caFile + ": cannot read it (" + e.getClass().getSimpleName()
                    + ": " + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new CtlException(2, "--cacert " + caFile + ": no certificate in it (" + e.getMessage() + ")");
        }
    }
}
