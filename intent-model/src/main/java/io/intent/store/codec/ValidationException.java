package io.intent.store.codec;

import java.util.List;
import java.util.stream.Collectors;

/** Every field error of one value, so an operator can fix them all in one go. */
public class ValidationException extends InvalidValueException {
    private final List<FieldError> errors;

    public ValidationException(String subject, List<FieldError> errors) {
        super(subject + ": " + errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        this.errors = List.copyOf(errors);
    }

    public List<FieldError> errors() {
        return errors;
    }
}
