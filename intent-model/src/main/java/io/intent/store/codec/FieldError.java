package io.intent.store.codec;

/** One reason a value is invalid: the field path (e.g. {@code ports[1].port}) and what is wrong with it. */
public record FieldError(String field, String reason) {
    @Override
    public String toString() {
        return field.isEmpty() ? reason : field + ": " + reason;
    }
}
