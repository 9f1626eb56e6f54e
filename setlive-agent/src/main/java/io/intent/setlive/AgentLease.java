package io.intent.setlive;

import io.intent.store.etcd.Session;

/**
 * The setlive agent's view of the process's one lease ({@link Session}): rollout requests and endpoints hang on
 * it, so they vanish by themselves when the process dies (after the TTL). When the lease is lost the session
 * grants a new one on the next {@link #id()}, and what compares lease ids (a rollout grant counts only while its
 * request lives on the same lease; an endpoint is republished on the new lease) sees the change.
 */
final class AgentLease implements AutoCloseable {
    private final Session session;

    AgentLease(Session session) {
        this.session = session;
    }

    /** A lease that is alive now (by the keeper's conservative deadline). */
    long id() {
        return session.lease();
    }

    /**
     * Stops keeping the process's lease alive without revoking it: what hangs on it (a rollout slot, and the host's
     * liveness) lives on for the TTL, long enough for the next process (a node replacing itself) to move it onto its
     * own lease.
     */
    void abandon() {
        session.abandon();
    }

    /**
     * Nothing to do: the session is the process's, and its owner revokes it (slots and endpoints go at once) after
     * every agent has stopped.
     */
    @Override
    public void close() {
    }
}
