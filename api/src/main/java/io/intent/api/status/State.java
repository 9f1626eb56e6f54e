package io.intent.api.status;

/** How far one app (or one host of it, or one agent) is from its intent, in increasing order of trouble. */
public enum State {
    /** Everything observed matches the intent. */
    OK,
    /** The dispatcher has not placed (or cannot place) the app; the reason comes from the placement. */
    PENDING,
    /** Assigned, and the host's agents are working on it (fetching, staging, starting). */
    PREPARING,
    /** The agents say they are done, but with another version than the active one. */
    VERSION_MISMATCH,
    /** An agent's last attempt failed, the host is not live, or the intent itself is invalid. */
    FAILED;

    /** The worse of two states. */
    public State worst(State other) {
        return other.ordinal() > ordinal() ? other : this;
    }
}
