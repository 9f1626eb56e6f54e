package io.intent.store.model;

/**
 * What one host must run for one app: a copy of the app's intent as of {@code appRevision} (the etcd mod
 * revision of {@code /intent/apps/<app>}), so a host's agents need to watch only their own slice.
 * Written by the leader's dispatcher at {@code /intent/assign/<host>/<app>}, fenced.
 */
public record Assignment(String app, String host, long appRevision, AppIntent intent) {
}
