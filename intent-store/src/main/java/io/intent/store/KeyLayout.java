package io.intent.store;

import io.intent.store.codec.Names;

/**
 * The etcd key layout (docs/key-layout.md), defined once. Every key is built here from validated names, so no
 * name can reach outside its prefix.
 *
 * <p>The accessors repeat one shape (prefix, per-host slice, key) on purpose: one named method per kind of key
 * reads as the layout's table and lets the compiler find every user of a key; a generic key builder would not.
 */
public final class KeyLayout {
    public static final String DEFAULT_ROOT = "/intent";
    private final String root;

    public KeyLayout(String root) {
        if (root == null || !root.startsWith("/") || root.endsWith("/") || root.contains("//")
                || root.contains("..")) {
            throw new IllegalArgumentException("key root must start with '/', not end with '/', and hold no"
                    + " '..' or '//': '" + root + "'");
        }
        this.root = root;
    }

    public static KeyLayout defaults() {
        return new KeyLayout(DEFAULT_ROOT);
    }

    public String root() {
        return root;
    }

    public String appsPrefix() {
        return root + "/apps/";
    }

    public String app(String app) {
        return appsPrefix() + Names.require("app", app);
    }

    public String hostsPrefix() {
        return root + "/hosts/";
    }

    public String host(String host) {
        return hostsPrefix() + Names.require("host", host);
    }

    public String livePrefix() {
        return root + "/live/";
    }

    public String live(String host) {
        return livePrefix() + Names.require("host", host);
    }

    public String assignPrefix() {
        return root + "/assign/";
    }

    /** The slice one host's agents watch: {@code /intent/assign/<host>/}. */
    public String assignSlice(String host) {
        return assignPrefix() + Names.require("host", host) + "/";
    }

    public String assignment(String host, String app) {
        return assignSlice(host) + Names.require("app", app);
    }

    public String placementPrefix() {
        return root + "/placement/";
    }

    public String placement(String app) {
        return placementPrefix() + Names.require("app", app);
    }

    public String statusPrefix() {
        return root + "/status/";
    }

    public String statusSlice(String host) {
        return statusPrefix() + Names.require("host", host) + "/";
    }

    public String statusApp(String host, String app) {
        return statusSlice(host) + Names.require("app", app) + "/";
    }

    public String status(String host, String app, String agent) {
        return statusApp(host, app) + Names.require("agent", agent);
    }

    public String leaderPrefix() {
        return root + "/leader/";
    }

    /** The election name passed to etcd's election API. */
    public String election() {
        return root + "/leader/dispatcher";
    }

    /** A host's own registration (its proposed HostSpec), which the leader copies to {@code hosts/<host>} once. */
    public String registrationPrefix() {
        return root + "/registration/";
    }

    public String registration(String host) {
        return registrationPrefix() + Names.require("host", host);
    }

    public String endpointsPrefix() {
        return root + "/endpoints/";
    }

    /** The endpoints one host publishes: {@code /intent/endpoints/<host>/} (host first, so a host owns a prefix). */
    public String endpointSlice(String host) {
        return endpointsPrefix() + Names.require("host", host) + "/";
    }

    public String endpoint(String app, String host) {
        return endpointSlice(host) + Names.require("app", app);
    }

    /** Rollout slot requests: {@code /intent/rollout/<host>/<app>}, each on its host's setlive lease. */
    public String rolloutPrefix() {
        return root + "/rollout/";
    }

    public String rolloutSlice(String host) {
        return rolloutPrefix() + Names.require("host", host) + "/";
    }

    public String rolloutRequest(String host, String app) {
        return rolloutSlice(host) + Names.require("app", app);
    }

    /** Rollout slots the leader granted: {@code /intent/slots/<host>/<app>}, readable by that host only. */
    public String slotsPrefix() {
        return root + "/slots/";
    }

    public String slotSlice(String host) {
        return slotsPrefix() + Names.require("host", host) + "/";
    }

    public String slot(String host, String app) {
        return slotSlice(host) + Names.require("app", app);
    }

    /** Release channels: {@code /intent/channels/<name>}, written by operators (and by the leader for fed ones). */
    public String channelsPrefix() {
        return root + "/channels/";
    }

    public String channel(String name) {
        return channelsPrefix() + Names.require("channel", name);
    }

    /** What the leader reports about each channel: {@code /intent/channel-status/<name>}. */
    public String channelStatusPrefix() {
        return root + "/channel-status/";
    }

    public String channelStatus(String name) {
        return channelStatusPrefix() + Names.require("channel", name);
    }

    /** The host and app of a key {@code <prefix><host>/<app>}, or null when the key is not of that form. */
    public static String[] hostAndApp(String prefix, String key) {
        if (!key.startsWith(prefix)) {
            return null;
        }
        String[] parts = key.substring(prefix.length()).split("/", -1);
        return parts.length == 2 && Names.valid(parts[0]) && Names.valid(parts[1]) ? parts : null;
    }

    /** The last path segment of a key under {@code prefix}, or null when the key is not directly under it. */
    public static String childName(String prefix, String key) {
        if (!key.startsWith(prefix)) {
            return null;
        }
        String rest = key.substring(prefix.length());
        return rest.isEmpty() || rest.contains("/") ? null : rest;
    }
}
