package io.intent.store.model;

import java.time.Instant;

/**
 * A host asking for a rollout slot of an app, at {@code /intent/rollout/<host>/<app>} on its setlive lease: it
 * wants to take a healthy instance down to switch it to {@code version}. The leader grants it a {@link SlotGrant}.
 */
public record RolloutRequest(String host, String app, String version, Instant since) {
}
