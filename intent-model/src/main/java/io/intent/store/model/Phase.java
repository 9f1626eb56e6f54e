package io.intent.store.model;

/** Where one agent stands with one app on one host. */
public enum Phase {
    /** A precondition is missing (an install, a free rollout slot); it is retried, nothing is torn down. */
    WAITING,
    /** Work is under way (a download, a start). */
    PROGRESSING,
    /** The agent's slice of the host matches the intent. */
    READY,
    /** The last attempt failed; {@code message} says why and the agent retries with backoff. */
    FAILED
}
