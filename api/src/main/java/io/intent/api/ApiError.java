package io.intent.api;

import io.intent.store.codec.FieldError;
import java.util.List;

/**
 * A request that cannot be served, with the HTTP status, a stable machine-readable code and every field error.
 * Rendered as the one error shape {@code {"error": {"code", "message", "details": [{field, reason}], "requestId"}}}.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final List<FieldError> details;

    public ApiError(int status, String code, String message, List<FieldError> details) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.details = List.copyOf(details);
    }

    public ApiError(int status, String code, String message) {
        this(status, code, message, List.of());
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public List<FieldError> details() {
        return details;
    }

    static ApiError notFound(String what) {
        return new ApiError(404, "not_found", what + " not found");
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, "bad_request", message);
    }

    /** The error body for a status code Vert.x produced itself (no route, body too large). */
    static ApiError ofStatus(int status) {
        return switch (status) {
            case 404 -> new ApiError(404, "not_found", "no such endpoint; see /v1/openapi.json");
            case 405 -> new ApiError(405, "method_not_allowed", "method not allowed on this endpoint");
            case 413 -> new ApiError(413, "payload_too_large", "request body is over the limit");
            case 415 -> new ApiError(415, "unsupported_media_type", "send Content-Type: application/json");
            case 400 -> new ApiError(400, "bad_request", "bad request");
            default -> new ApiError(status, status >= 500 ? "internal" : "error", "HTTP " + status);
        };
    }
}
