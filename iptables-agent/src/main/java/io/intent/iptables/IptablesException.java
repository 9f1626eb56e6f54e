package io.intent.iptables;

/** A backend could not read or write the chain; the message carries iptables' own error output. */
public class IptablesException extends Exception {
    public IptablesException(String message) {
        super(message);
    }

    public IptablesException(String message, Throwable cause) {
        super(message, cause);
    }
}
