package io.intent.preparer;

/** Why one version could not be prepared, in words an operator can act on (it ends up in the status). */
public class PrepareException extends Exception {
    public PrepareException(String message) {
        super(message);
    }

    public PrepareException(String message, Throwable cause) {
        super(message, cause);
    }
}
