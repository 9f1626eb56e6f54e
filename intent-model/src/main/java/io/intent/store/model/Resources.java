package io.intent.store.model;

/** What one instance of an app reserves on its host: cores and MiB of memory. */
public record Resources(double cpu, long memoryMb) {
    public static final Resources NONE = new Resources(0, 0);
}
