package io.intent.dispatcher;

/**
 * The stamp every dispatcher transaction also writes at {@code <root>/leader/term}: who wrote, under which
 * fencing token. Its mod revision equals the transaction's, so etcd's history alone tells which leader made
 * every write under {@code assign/} and {@code placement/} (the fencing tests audit exactly that).
 *
 * @param leader         the writing candidate's name
 * @param fenceKey       its election key
 * @param fenceRevision  that key's create revision
 */
public record LeaderTerm(String leader, String fenceKey, long fenceRevision) {
    /** The key of the stamp under a key root such as {@code /intent}. */
    public static String key(io.intent.store.KeyLayout keys) {
        return keys.leaderPrefix() + "term";
    }
}
