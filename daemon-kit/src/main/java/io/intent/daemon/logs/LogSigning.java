package io.intent.daemon.logs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How the API proves to a host's node that a log request comes from it: an HMAC-SHA256 over the method, the host,
 * the request URI and an expiry, keyed with the host's own log key. Each host's key is derived from the API's
 * master key ({@link #hostKey}), so a host holds only its own key: a stolen one reads that host's logs, no other.
 * Requests are valid until their expiry, at most {@link #MAX_VALIDITY_SECONDS} ahead.
 */
public final class LogSigning {
    /** Header carrying the expiry (epoch seconds) the signature covers. */
    public static final String EXPIRES_HEADER = "X-Intent-Logs-Expires";
    /** The {@code Authorization} scheme. */
    public static final String SCHEME = "IntentLogs";
    /** The longest validity a node accepts: a signed request replays for at most this long. */
    public static final long MAX_VALIDITY_SECONDS = 60;
    /** Shortest key (file content) accepted: 32 characters, e.g. {@code openssl rand -hex 32} gives 64. */
    public static final int MIN_KEY_CHARS = 32;

    private LogSigning() {
    }

    /** The key of {@code host}, derived from the API's master key: the text to put in that host's key file. */
    public static String hostKey(String masterKey, String host) {
        return HexFormat.of().formatHex(hmac(masterKey, "intent-logs-host:" + host));
    }

    /** The {@code Authorization} header value for a request to {@code host}. */
    public static String sign(String hostKey, String host, String method, String uri, long expiresEpochSeconds) {
        return SCHEME + " " + HexFormat.of().formatHex(hmac(hostKey, payload(host, method, uri, expiresEpochSeconds)));
    }

    /**
     * Checks a request's signature; empty when it is good, else why not (for a 401 body: it names no secret).
     *
     * @param nowEpochSeconds the node's clock
     */
    public static Optional<String> verify(String hostKey, String host, String method, String uri, String authorization,
                                          String expires, long nowEpochSeconds) {
        if (authorization == null || !authorization.startsWith(SCHEME + " ")) {
            return Optional.of("missing credentials: send Authorization: " + SCHEME + " <signature> and "
                    + EXPIRES_HEADER + " (the API signs its requests with this host's log key)");
        }
        long exp;
        try {
            exp = Long.parseLong(expires == null ? "" : expires.strip());
        } catch (NumberFormatException e) {
            return Optional.of(EXPIRES_HEADER + " must be epoch seconds, not '" + expires + "'");
        }
        if (exp < nowEpochSeconds) {
            return Optional.of("signature expired " + (nowEpochSeconds - exp) + " s ago (clocks apart?)");
        }
        if (exp > nowEpochSeconds + MAX_VALIDITY_SECONDS) {
            return Optional.of("signature valid too far ahead (more than " + MAX_VALIDITY_SECONDS
                    + " s: clocks apart?)");
        }
        byte[] want = sign(hostKey, host, method, uri, exp).getBytes(StandardCharsets.US_ASCII);
        byte[] got = authorization.getBytes(StandardCharsets.US_ASCII);
        // constant time: the comparison leaks nothing about the expected signature
        return MessageDigest.isEqual(want, got) ? Optional.empty() : Optional.of("bad signature");
    }

    /** Reads a key file: its content without surrounding whitespace, at least {@link #MIN_KEY_CHARS} long. */
    public static String readKey(String option, Path file) {
        String key;
        try {
            key = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot read: " + e.getMessage(), e);
        }
        if (key.length() < MIN_KEY_CHARS) {
            throw new IllegalArgumentException(option + " " + file + ": a key needs at least " + MIN_KEY_CHARS
                    + " characters (e.g. openssl rand -hex 32), it has " + key.length());
        }
        return key;
    }

    private static String payload(String host, String method, String uri, long expires) {
        return method + "\n" + host + "\n" + uri + "\n" + expires;
    }

    private static byte[] hmac(String key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
