package io.intent.api;

/** Intents used across the API tests. */
final class Fixtures {
    static final String SHA_A = "a".repeat(64);
    static final String SHA_B = "b".repeat(64);

    private Fixtures() {
    }

    /** A valid intent with versions 1.0 and 2.0, running {@code active} on {@code scale} hosts. */
    static String app(String active, int scale) {
        return "{\"versions\":{\"1.0\":{\"artifact\":\"file:///srv/web-1.0.tar.gz\",\"sha256\":\"" + SHA_A + "\"},"
                + "\"2.0\":{\"artifact\":\"file:///srv/web-2.0.tar.gz\",\"sha256\":\"" + SHA_B + "\"}},"
                + "\"active\":\"" + active + "\",\"run\":{\"command\":[\"bin/server\"]},"
                + "\"ports\":[{\"name\":\"http\",\"port\":8080}],\"scale\":" + scale + "}";
    }
}
