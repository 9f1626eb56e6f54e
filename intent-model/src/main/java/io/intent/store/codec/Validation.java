package io.intent.store.codec;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelManifest;
import io.intent.store.model.HostSpec;
import io.intent.store.model.PortSpec;
import io.intent.store.model.VersionSpec;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates intents and host specs, a pure function returning every problem with its field path
 * ("ports[1].port: 70000 is out of range 1-65535").
 */
// Long (about 450 lines): every rule of the stored formats (apps, channels, manifests, hosts) with the limits
// they share; each record's check is a short method, and callers across the modules name this one class.
public final class Validation {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern PINNED_IMAGE = Pattern.compile(".+@sha256:[0-9a-f]{64}");
    private static final Pattern IMAGE = Pattern.compile("[a-z0-9][a-z0-9._/:@-]{0,254}");
    private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9._-]{0,63}");
    private static final Set<String> SCHEMES = Set.of("http", "https", "file");
    private static final Set<String> FORMATS = Set.of(VersionSpec.TAR, VersionSpec.TAR_GZ, VersionSpec.ZIP,
            VersionSpec.DOCKER_ARCHIVE);
    static final int MAX_VERSIONS = 32;
    static final int MAX_PORTS = 64;
    static final int MAX_SCALE = 10_000;
    static final int MAX_COMMAND_ARGS = 256;
    static final int MAX_ENV = 256;
    static final int MAX_STRING = 4096;

    private Validation() {
    }

    /** Every problem with {@code app}; empty when valid. */
    public static List<FieldError> check(String name, AppIntent app) {
        List<FieldError> errs = new ArrayList<>();
        String nameProblem = Names.problem(name);
        if (nameProblem != null) {
            errs.add(new FieldError("name", nameProblem));
        }
        boolean docker = AppIntent.RUNTIME_DOCKER.equals(app.runtime());
        if (app.runtime() != null && !docker && !AppIntent.RUNTIME_PROCESS.equals(app.runtime())) {
            errs.add(new FieldError("runtime", "'" + app.runtime() + "' is not one of process, docker"));
        }
        checkVersions(app, docker, errs);
        checkChannel(app, errs);
        if (app.scale() != null && (app.scale() < 0 || app.scale() > MAX_SCALE)) {
            errs.add(new FieldError("scale", app.scale() + " is out of range 0-" + MAX_SCALE));
        }
        if (app.maxUnavailable() != null && app.maxUnavailable() < 1) {
            errs.add(new FieldError("maxUnavailable", "must be at least 1"));
        }
        checkRun(app, docker, errs);
        Set<String> portNames = checkPorts(app.ports(), errs);
        checkHealth(app, portNames, errs);
        checkReschedule(app, errs);
        checkRestart(app, errs);
        checkResources(app, errs);
        if (app.constraints() != null) {
            checkLabels("constraints.labels", app.constraints().labels(), errs);
            checkLabels("constraints.prefer", app.constraints().prefer(), errs);
        }
        return errs;
    }

    private static void checkChannel(AppIntent app, List<FieldError> errs) {
        if (app.channel() == null) {
            return;
        }
        String follow = app.channel().follow();
        String p = follow == null ? null : Names.problem(follow);
        if (p != null) {
            errs.add(new FieldError("channel.follow", p));
        } else if (follow == null && app.channel().stopped() == null) {
            errs.add(new FieldError("channel.follow", "required in a channel block: the channel to follow"));
        }
        if (app.channel().stopped() != null && app.channel().stopped().length() > MAX_STRING) {
            errs.add(new FieldError("channel.stopped", "longer than " + MAX_STRING + " characters"));
        }
    }

    private static void checkHealth(AppIntent app, Set<String> portNames, List<FieldError> errs) {
        if (app.health() == null) {
            return;
        }
        var h = app.health();
        if (h.http() != null && (!h.http().startsWith("/") || h.http().length() > 1024
                || h.http().chars().anyMatch(c -> c <= ' '))) {
            errs.add(new FieldError("health.http", "must be a path starting with '/'"));
        }
        if (h.port() != null && !portNames.contains(h.port())) {
            errs.add(new FieldError("health.port", "'" + h.port() + "' is not the name of one of ports"));
        }
        if (h.port() == null && app.ports().isEmpty()) {
            errs.add(new FieldError("health", "needs a port to check, and the app has none"));
        }
        if (h.timeoutSeconds() != null && (h.timeoutSeconds() < 1 || h.timeoutSeconds() > 3600)) {
            errs.add(new FieldError("health.timeoutSeconds", "out of range 1-3600"));
        }
        if (h.intervalSeconds() != null && (h.intervalSeconds() < 1 || h.intervalSeconds() > 3600)) {
            errs.add(new FieldError("health.intervalSeconds", h.intervalSeconds() + " is out of range 1-3600"));
        }
        if (h.failureThreshold() != null && (h.failureThreshold() < 1 || h.failureThreshold() > 100)) {
            errs.add(new FieldError("health.failureThreshold", h.failureThreshold() + " is out of range 1-100"));
        }
    }

    private static void checkReschedule(AppIntent app, List<FieldError> errs) {
        if (app.reschedule() == null) {
            return;
        }
        var r = app.reschedule();
        if (r.afterFailures() != null && (r.afterFailures() < 1 || r.afterFailures() > 1000)) {
            errs.add(new FieldError("reschedule.afterFailures", r.afterFailures() + " is out of range 1-1000"));
        }
        if (r.windowSeconds() != null && (r.windowSeconds() < 10 || r.windowSeconds() > 86400)) {
            errs.add(new FieldError("reschedule.windowSeconds", r.windowSeconds() + " is out of range 10-86400"));
        }
    }

    private static void checkRestart(AppIntent app, List<FieldError> errs) {
        if (app.restart() == null) {
            return;
        }
        var r = app.restart();
        if (r.generation() != null && r.generation() < 0) {
            errs.add(new FieldError("restart.generation", r.generation() + " is negative"));
        }
        if (r.hosts() != null) {
            r.hosts().forEach((h, g) -> {
                String problem = Names.problem(h);
                if (problem != null) {
                    errs.add(new FieldError("restart.hosts", "'" + h + "': " + problem));
                } else if (g == null || g < 0) {
                    errs.add(new FieldError("restart.hosts." + h, g + " is not a generation (0 or more)"));
                }
            });
        }
        if (r.requestedAt() != null && r.requestedAt().length() > 64) {
            errs.add(new FieldError("restart.requestedAt", "longer than 64 characters"));
        }
    }

    private static void checkResources(AppIntent app, List<FieldError> errs) {
        if (app.resources() == null) {
            return;
        }
        if (app.resources().cpu() < 0 || app.resources().cpu() > 1024) {
            errs.add(new FieldError("resources.cpu", "out of range 0-1024"));
        }
        if (app.resources().memoryMb() < 0 || app.resources().memoryMb() > 16L * 1024 * 1024) {
            errs.add(new FieldError("resources.memoryMb", "out of range 0-16777216"));
        }
    }

    private static void checkVersions(AppIntent app, boolean docker, List<FieldError> errs) {
        if (app.versions().isEmpty() && !(app.channel() != null && app.channel().follow() != null)) {
            errs.add(new FieldError("versions", "must list at least one version"));
        }
        if (app.versions().size() > MAX_VERSIONS) {
            errs.add(new FieldError("versions", "more than " + MAX_VERSIONS + " versions"));
        }
        for (Map.Entry<String, VersionSpec> e : app.versions().entrySet()) {
            checkVersion("versions." + e.getKey(), e.getKey(), e.getValue(), docker, errs);
        }
        boolean following = app.channel() != null && app.channel().follow() != null;
        if (app.active() == null) {
            if (!following) {
                errs.add(new FieldError("active", "required (or channel.follow)"));
            }
        } else if (!app.versions().containsKey(app.active())) {
            errs.add(new FieldError("active", "'" + Names.printable(app.active()) + "' is not one of versions "
                    + app.versions().keySet().stream().sorted().toList()));
        }
    }

    // Long: a version is either an artifact or an image, and each has its own URL, digest and format rules.
    /** The rules of one version {@code version} with spec {@code v}, reported under field {@code f}. */
    private static void checkVersion(String f, String version, VersionSpec v, boolean docker, List<FieldError> errs) {
        if (!VERSION.matcher(version).matches() || version.contains("..")) {
            errs.add(new FieldError(f, "version '" + Names.printable(version)
                    + "' must be letters, digits, '.', '_', '+' or '-', at most 64, and never '..'"));
        }
        if (v == null) {
            errs.add(new FieldError(f, "must not be null"));
            return;
        }
        if (v.format() != null && !FORMATS.contains(v.format())) {
            errs.add(new FieldError(f + ".format", "'" + v.format() + "' is not one of " + FORMATS));
        }
        if (v.image() != null) {
            if (!docker) {
                errs.add(new FieldError(f + ".image", "only for runtime: docker"));
            }
            if (!IMAGE.matcher(v.image()).matches()) {
                errs.add(new FieldError(f + ".image", "'" + Names.printable(v.image())
                        + "' is not an image reference"));
            } else if (v.imagePinnedOrDefault() && !PINNED_IMAGE.matcher(v.image()).matches()) {
                // a tag can be moved to other bytes; a digest cannot, like an artifact's sha256
                errs.add(new FieldError(f + ".image", "'" + Names.printable(v.image())
                        + "' is not pinned by digest: write name@sha256:<64 lowercase hex>, or set "
                        + f + ".imagePinned: false to run whatever the tag points to"));
            }
            if (v.artifact() != null) {
                errs.add(new FieldError(f, "give either image or artifact, not both"));
            }
            return;
        }
        if (v.imagePinned() != null) {
            errs.add(new FieldError(f + ".imagePinned", "only with image (an artifact is pinned by its sha256)"));
        }
        if (v.artifact() == null) {
            errs.add(new FieldError(f + ".artifact", docker ? "required (or image)" : "required"));
        } else {
            String schemeProblem = urlProblem(v.artifact());
            if (schemeProblem != null) {
                errs.add(new FieldError(f + ".artifact", schemeProblem));
            }
        }
        if (v.sha256() == null) {
            errs.add(new FieldError(f + ".sha256", "required with artifact"));
        } else if (!SHA256.matcher(v.sha256()).matches()) {
            errs.add(new FieldError(f + ".sha256", "must be 64 lowercase hex characters"));
        }
        if (docker && v.format() != null && !VersionSpec.DOCKER_ARCHIVE.equals(v.format())) {
            errs.add(new FieldError(f + ".format", "runtime docker needs docker-archive or an image"));
        }
        if (!docker && VersionSpec.DOCKER_ARCHIVE.equals(v.format())) {
            errs.add(new FieldError(f + ".format", "docker-archive needs runtime: docker"));
        }
    }

    /** Every problem with channel {@code name}; empty when valid. */
    public static List<FieldError> check(String name, Channel c) {
        List<FieldError> errs = new ArrayList<>();
        String nameProblem = Names.problem(name);
        if (nameProblem != null) {
            errs.add(new FieldError("name", nameProblem));
        }
        if (c.feed() != null) {
            String p = feedProblem(c.feed());
            if (p != null) {
                errs.add(new FieldError("feed", p));
            }
        } else if (c.ca() != null) {
            errs.add(new FieldError("ca", "only with feed"));
        }
        if (c.ca() != null && (!c.ca().startsWith("/") || c.ca().contains("\0") || c.ca().length() > MAX_STRING)) {
            errs.add(new FieldError("ca", "must be an absolute path to a PEM file"));
        }
        if (c.version() == null) {
            if (c.feed() == null) {
                errs.add(new FieldError("version", "required (or feed)"));
            }
            if (c.artifact() != null || c.sha256() != null || c.image() != null) {
                errs.add(new FieldError("version", "required with artifact, sha256 or image"));
            }
            return errs;
        }
        checkVersion("", c.version(), c.versionSpec(), c.image() != null
                || VersionSpec.DOCKER_ARCHIVE.equals(c.format()), errs);
        return errs.stream().map(e -> e.field().startsWith(".") ? new FieldError(e.field().substring(1), e.reason())
                : e.field().isEmpty() ? new FieldError("version", e.reason()) : e).toList();
    }

    /** Every problem with a manifest served by a channel's feed; empty when valid. */
    public static List<FieldError> check(ChannelManifest m) {
        if (m.version() == null) {
            return List.of(new FieldError("version", "required"));
        }
        return check("manifest", new Channel(m.version(), m.artifact(), m.sha256(), m.image(), m.format(),
                m.imagePinned(), null, null));
    }

    private static String feedProblem(String feed) {
        if (feed.length() > MAX_STRING) {
            return "longer than " + MAX_STRING + " characters";
        }
        try {
            URI u = new URI(feed);
            if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null || u.getHost().isEmpty()) {
                return "must be an https:// URL with a host: '" + Names.printable(feed) + "'";
            }
            return null;
        } catch (URISyntaxException e) {
            return "not a URL: " + e.getReason();
        }
    }

    private static String urlProblem(String artifact) {
        if (artifact.length() > MAX_STRING) {
            return "longer than " + MAX_STRING + " characters";
        }
        try {
            URI u = new URI(artifact);
            if (u.getScheme() == null || !SCHEMES.contains(u.getScheme().toLowerCase())) {
                return "scheme must be http, https or file: '" + Names.printable(artifact) + "'";
            }
            if (u.getPath() == null || u.getPath().isEmpty()) {
                return "has no path";
            }
            if (!"file".equalsIgnoreCase(u.getScheme()) && (u.getHost() == null || u.getHost().isEmpty())) {
                return "has no host";
            }
            return null;
        } catch (URISyntaxException e) {
            return "not a URL: " + e.getReason();
        }
    }

    private static void checkRun(AppIntent app, boolean docker, List<FieldError> errs) {
        if (app.run() == null) {
            if (!docker) {
                errs.add(new FieldError("run.command", "required for runtime process"));
            }
            return;
        }
        var cmd = app.run().command();
        if (cmd.isEmpty() && !docker) {
            errs.add(new FieldError("run.command", "required for runtime process"));
        }
        if (cmd.size() > MAX_COMMAND_ARGS) {
            errs.add(new FieldError("run.command", "more than " + MAX_COMMAND_ARGS + " arguments"));
        }
        for (int i = 0; i < cmd.size(); i++) {
            String a = cmd.get(i);
            if (a == null || a.length() > MAX_STRING || a.indexOf('\0') >= 0) {
                errs.add(new FieldError("run.command[" + i + "]", "must be a string without NUL, at most "
                        + MAX_STRING));
            }
        }
        if (app.run().env().size() > MAX_ENV) {
            errs.add(new FieldError("run.env", "more than " + MAX_ENV + " variables"));
        }
        for (var e : app.run().env().entrySet()) {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                errs.add(new FieldError("run.env." + Names.printable(e.getKey()), "not a valid variable name"));
            } else if (e.getKey().startsWith("INTENT_")) {
                errs.add(new FieldError("run.env." + e.getKey(), "INTENT_ variables are set by intent itself"));
            }
            if (e.getValue() == null || e.getValue().length() > MAX_STRING || e.getValue().indexOf('\0') >= 0) {
                errs.add(new FieldError("run.env." + Names.printable(e.getKey()),
                        "value must be a string without NUL, at most " + MAX_STRING));
            }
        }
        String wd = app.run().workdir();
        if (wd != null && (wd.startsWith("/") || wd.equals("..") || wd.startsWith("../") || wd.contains("/../")
                || wd.endsWith("/..") || wd.indexOf('\0') >= 0)) {
            errs.add(new FieldError("run.workdir", "must be a relative path inside the install, without '..'"));
        }
    }

    private static Set<String> checkPorts(List<PortSpec> ports, List<FieldError> errs) {
        Set<String> names = new HashSet<>();
        Set<String> numbers = new HashSet<>();
        if (ports.size() > MAX_PORTS) {
            errs.add(new FieldError("ports", "more than " + MAX_PORTS + " ports"));
        }
        for (int i = 0; i < ports.size(); i++) {
            PortSpec p = ports.get(i);
            String f = "ports[" + i + "]";
            if (p == null) {
                errs.add(new FieldError(f, "must not be null"));
                continue;
            }
            if (p.name() == null || !Names.valid(p.name()) || p.name().length() > 15) {
                errs.add(new FieldError(f + ".name", "must be a DNS label of at most 15 characters"));
            } else if (!names.add(p.name())) {
                errs.add(new FieldError(f + ".name", "'" + p.name() + "' is used twice"));
            }
            if (p.port() < 1 || p.port() > 65535) {
                errs.add(new FieldError(f + ".port", p.port() + " is out of range 1-65535"));
            }
            String proto = p.protocolOrDefault();
            if (!proto.equals("tcp") && !proto.equals("udp")) {
                errs.add(new FieldError(f + ".protocol", "'" + Names.printable(proto) + "' is not tcp or udp"));
            } else if (!numbers.add(proto + "/" + p.port())) {
                errs.add(new FieldError(f + ".port", proto + " port " + p.port() + " is used twice"));
            }
            for (int j = 0; j < p.sources().size(); j++) {
                String c = p.sources().get(j);
                if (!Cidr.valid(c)) {
                    errs.add(new FieldError(f + ".sources[" + j + "]", "'" + Names.printable(String.valueOf(c))
                            + "' is not an IPv4 CIDR like 10.0.0.0/8"));
                }
            }
        }
        return names;
    }

    private static void checkLabels(String field, Map<String, String> labels, List<FieldError> errs) {
        if (labels.size() > 64) {
            errs.add(new FieldError(field, "more than 64 labels"));
        }
        for (var e : labels.entrySet()) {
            if (!LABEL_KEY.matcher(e.getKey()).matches()) {
                errs.add(new FieldError(field + "." + Names.printable(e.getKey()), "not a valid label key"));
            }
            if (e.getValue() == null || !LABEL_VALUE.matcher(e.getValue()).matches()) {
                errs.add(new FieldError(field + "." + Names.printable(e.getKey()), "not a valid label value"));
            }
        }
    }

    /** Every problem with a host spec; empty when valid. */
    public static List<FieldError> check(String host, HostSpec spec) {
        List<FieldError> errs = new ArrayList<>();
        String nameProblem = Names.problem(host);
        if (nameProblem != null) {
            errs.add(new FieldError("name", nameProblem));
        }
        checkLabels("labels", spec.labels(), errs);
        if (spec.capacity() != null && (spec.capacity().cpu() < 0 || spec.capacity().memoryMb() < 0)) {
            errs.add(new FieldError("capacity", "must not be negative"));
        }
        if (spec.address() != null && !Cidr.validAddress(spec.address())) {
            errs.add(new FieldError("address", "'" + Names.printable(spec.address()) + "' is not an IPv4 address"));
        }
        return errs;
    }

    /** Throws {@link ValidationException} listing every problem, else returns {@code app}. */
    public static AppIntent require(String name, AppIntent app) {
        List<FieldError> errs = check(name, app);
        if (!errs.isEmpty()) {
            throw new ValidationException("app " + Names.printable(String.valueOf(name)), errs);
        }
        return app;
    }

    public static HostSpec require(String name, HostSpec spec) {
        List<FieldError> errs = check(name, spec);
        if (!errs.isEmpty()) {
            throw new ValidationException("host " + Names.printable(String.valueOf(name)), errs);
        }
        return spec;
    }
}
