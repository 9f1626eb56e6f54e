package io.intent.store.codec;

/** A value that cannot be decoded or does not validate; the message is one line that says why. */
public class InvalidValueException extends RuntimeException {
    public InvalidValueException(String message) {
        super(message);
    }
}
