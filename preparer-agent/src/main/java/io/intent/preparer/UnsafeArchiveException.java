package io.intent.preparer;

/** An archive tried something an install must never do: escape its directory, make devices, explode. */
public final class UnsafeArchiveException extends PrepareException {
    public UnsafeArchiveException(String message) {
        super(message);
    }
}
