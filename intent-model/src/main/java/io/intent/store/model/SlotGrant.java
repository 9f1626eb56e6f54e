package io.intent.store.model;

import java.time.Instant;

/**
 * A rollout slot the leader granted, at {@code /intent/slots/<host>/<app>}: it holds only while the request it
 * answers still exists on the same lease ({@code lease}) with the same create revision ({@code request}).
 */
public record SlotGrant(String host, String app, long lease, long request, Instant since) {
}
