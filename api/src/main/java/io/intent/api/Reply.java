package io.intent.api;

import java.util.Map;

/** What an endpoint answers: a status, a body to encode as JSON (null for none) and extra headers. */
public record Reply(int status, Object body, Map<String, String> headers) {
    public static Reply ok(Object body) {
        return new Reply(200, body, Map.of());
    }

    public static Reply ok(Object body, long etag) {
        return new Reply(200, body, Map.of("ETag", Etags.format(etag)));
    }

    public static Reply of(int status, Object body, long etag) {
        return new Reply(status, body, Map.of("ETag", Etags.format(etag)));
    }
}
