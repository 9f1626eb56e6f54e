package io.intent.store.etcd;

/** etcd refused the connected user an operation on a key: a role misconfiguration, never retried. */
public final class PermissionDeniedException extends StoreException {
    private final String user;
    private final String operation;

    PermissionDeniedException(String operation, String user, Throwable cause) {
        super("etcd denied " + (user == null ? "the anonymous client (no --etcd-user)" : "user '" + user + "'")
                + " permission to " + operation + " (" + Failures.describe(cause) + "): grant the user's role this key"
                + " (etc/etcd/setup-rbac.sh creates the roles intent needs)", cause, false);
        this.user = user;
        this.operation = operation;
    }

    /** The etcd user, or null when the client connected without one. */
    public String user() {
        return user;
    }

    /** The refused call and its key, e.g. {@code put /intent/apps/web}. */
    public String operation() {
        return operation;
    }
}
