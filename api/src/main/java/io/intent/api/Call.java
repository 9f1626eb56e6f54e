package io.intent.api;

import io.intent.store.codec.FieldError;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One authenticated request as an endpoint sees it: path parameters, headers, the body, and who asks. */
public record Call(RoutingContext ctx, Tokens.Token principal, String requestId) {
    private static final Pattern AT = Pattern.compile("^(.*) \\(at ([^)]*)\\)$");

    /** A path parameter that must be a valid name (app, host, token). */
    String name(String param) {
        String value = ctx.pathParam(param);
        String problem = Names.problem(value);
        if (problem != null) {
            throw new ApiError(400, "invalid_name", param + " '" + value + "': " + problem,
                    List.of(new FieldError(param, problem)));
        }
        return value;
    }

    String header(String name) {
        return ctx.request().getHeader(name);
    }

    String query(String name) {
        return ctx.request().getParam(name);
    }

    byte[] body() {
        var b = ctx.body() == null ? null : ctx.body().buffer();
        return b == null ? new byte[0] : b.getBytes();
    }

    /** The body decoded strictly as {@code type}; a 400 naming the field when it is not one. */
    <T> T body(Class<T> type) {
        byte[] bytes = body();
        if (bytes.length == 0) {
            throw ApiError.badRequest("request body is empty; send a JSON " + type.getSimpleName());
        }
        try {
            T value = Json.read(bytes, type);
            if (value == null) {
                throw new InvalidValueException("body is JSON null");
            }
            return value;
        } catch (InvalidValueException e) {
            throw parseError(e);
        }
    }

    /** A decoding error as a 400 with the field it names, if any. */
    static ApiError parseError(InvalidValueException e) {
        String msg = e.getMessage();
        Matcher m = AT.matcher(msg);
        FieldError fe = m.matches() ? new FieldError(m.group(2), m.group(1)) : new FieldError("", msg);
        return new ApiError(400, "invalid_body", "request body is not valid: " + msg, List.of(fe));
    }
}
