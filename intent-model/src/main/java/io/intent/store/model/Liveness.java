package io.intent.store.model;

import java.time.Instant;

/**
 * Proof that a host is up, at {@code /intent/live/<host>}, attached to the host's etcd lease so it vanishes
 * when the host stops renewing it.
 */
public record Liveness(String host, String address, String agent, long pid, Instant since) {
}
