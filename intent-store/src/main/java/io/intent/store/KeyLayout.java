package io.intent.store;

import io.intent.store.codec.Names;

/**
 * The etcd key layout (docs/key-layout.md), defined once. Every key is built here from validated names, so no
 * name can reach outside its prefix.
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

    public String endpointsPrefix() {
        return root + "/endpoints/";
    }

    public String endpoints(String app) {
        return endpointsPrefix() + Names.require("app", app) + "/";
    }

    public String endpoint(String app, String host) {
        return endpoints(app) + Names.require("host", host);
    }

    public String rolloutPrefix(String app) {
        return root + "/rollout/" + Names.require("app", app) + "/";
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
