package io.intent.setlive;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Container;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.agent.InstallLayout;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs apps as Docker containers through docker-java: one container per app version, named
 * {@code intent-<host>-<app>-<version>} (the host is in the name because simulated hosts share one engine) and
 * labelled {@code intent.host}, {@code intent.app}, {@code intent.version}, {@code intent.spec-hash} and
 * {@code intent.spec} (the spec itself). Containers run with an init process, restart policy unless-stopped, and
 * the intent's ports bound on the host's address. Switching stops the old container first (the ports are host
 * ports), starts the new one, and removes the old one only once the new one is healthy, so a rollback is a start.
 */
public final class DockerRuntime implements AppRuntime, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DockerRuntime.class);
    static final String LABEL_HOST = "intent.host";
    static final String LABEL_APP = "intent.app";
    static final String LABEL_VERSION = "intent.version";
    static final String LABEL_HASH = "intent.spec-hash";
    static final String LABEL_SPEC = "intent.spec";

    private final String dockerHost;
    private final DockerContainers engine;
    /** Whether this host has had a Docker app; null: always ask the engine (the logs endpoint, tests). */
    private final DockerUse use;
    /** Apps seen with containers at the last listing (null: never listed); cheap answer for runit apps. */
    private volatile Set<String> lastSeen;

    public DockerRuntime(String dockerHost, String host, String address) {
        this(dockerHost, host, address, LogLimits.DEFAULT);
    }

    public DockerRuntime(String dockerHost, String host, String address, LogLimits logLimits) {
        this(dockerHost, host, address, logLimits, null);
    }

    /** A runtime that touches the engine only once {@code layout}'s host has had a Docker app (see DockerUse). */
    public DockerRuntime(String dockerHost, String host, String address, LogLimits logLimits, InstallLayout layout) {
        this.dockerHost = dockerHost;
        this.engine = new DockerContainers(dockerHost, host, address, logLimits);
        this.use = layout == null ? null : DockerUse.of(layout);
    }

    /**
     * This host's containers of {@code app} (all apps: null); none without asking the engine when no container of
     * this host can exist: no engine, or no Docker app here yet (DockerUse), so the Docker client is never loaded.
     */
    private List<Container> containers(String app) {
        return use != null && !use.recorded() ? List.of() : engine.containers(app);
    }

    /** The container whose output is {@code app}'s log here: the running one, else the newest; empty if none. */
    Optional<String> logContainer(String app) {
        List<Container> all = containers(app);
        return all.stream().filter(c -> "running".equals(c.getState())).findFirst()
                .or(() -> all.stream().max(java.util.Comparator.comparingLong(c -> c.getCreated() == null ? 0
                        : c.getCreated())))
                .map(Container::getId);
    }

    @Override
    public String kind() {
        return "docker";
    }

    @Override
    public String fingerprint(LaunchSpec spec) {
        return RunitRuntime.sha256(new String(Json.write(spec), StandardCharsets.UTF_8));
    }

    /** The container name of a spec; characters Docker refuses in names ('+') become '_'. */
    static String containerName(LaunchSpec spec) {
        return ("intent-" + spec.host() + "-" + spec.app() + "-" + spec.version()).replace('+', '_');
    }

    @Override
    public Optional<Instance> inspect(String app) {
        List<Container> all = containers(app);
        List<Container> running = all.stream().filter(c -> "running".equals(c.getState())).toList();
        if (running.size() == 1) {
            return Optional.of(instance(running.get(0)));
        }
        if (running.size() > 1) {
            // two running at once (a crash mid-switch): report one as a mismatch so the switch redoes it
            Instance i = instance(running.get(0));
            return Optional.of(new Instance(i.spec(), "several-running", true, i.pid(), i.since()));
        }
        // nothing runs; the newest container still tells what ran last (for a rollback)
        return all.stream().findFirst().map(this::instance)
                .map(i -> new Instance(i.spec(), i.fingerprint(), false, 0, i.since()));
    }

    private Instance instance(Container c) {
        Map<String, String> labels = c.getLabels() == null ? Map.of() : c.getLabels();
        LaunchSpec spec = null;
        try {
            String json = labels.get(LABEL_SPEC);
            spec = json == null ? null : Json.read(json, LaunchSpec.class);
        } catch (InvalidValueException e) {
            log.warn("container {} has an unreadable {} label", DockerContainers.name(c), LABEL_SPEC);
        }
        long pid = 0;
        Instant since = Instant.EPOCH;
        if ("running".equals(c.getState())) {
            try {
                InspectContainerResponse r = engine.client().inspectContainerCmd(c.getId()).exec();
                pid = r.getState().getPidLong() == null ? 0 : r.getState().getPidLong();
                since = Instant.parse(r.getState().getStartedAt());
            } catch (NotFoundException | java.time.format.DateTimeParseException e) {
                // gone or odd timestamp: the next reconcile looks again
            }
        }
        return new Instance(spec, labels.getOrDefault(LABEL_HASH, ""), "running".equals(c.getState()), pid, since);
    }

    @Override
    public Facts facts(String app) {
        List<Container> all = containers(app);
        Container c = all.stream().filter(x -> "running".equals(x.getState())).findFirst()
                .orElse(all.isEmpty() ? null : all.get(0));
        if (c == null) {
            return Facts.NONE;
        }
        try {
            InspectContainerResponse r = engine.client().inspectContainerCmd(c.getId()).exec();
            var st = r.getState();
            boolean running = Boolean.TRUE.equals(st.getRunning());
            Instant started = null;
            try {
                started = running ? Instant.parse(st.getStartedAt()) : null;
            } catch (java.time.format.DateTimeParseException e) {
                // odd timestamp: left out
            }
            Long code = st.getExitCodeLong();
            Integer restarts = r.getRestartCount();
            boolean exited = code != null && (code != 0 || !running) && st.getFinishedAt() != null
                    && !st.getFinishedAt().startsWith("0001-");
            return new Facts(c.getId().substring(0, Math.min(12, c.getId().length())), started,
                    restarts == null ? 0 : restarts, exited ? code.intValue() : null,
                    exited && code > 128 ? (int) (code - 128) : null, Boolean.TRUE.equals(st.getOOMKilled()));
        } catch (NotFoundException e) {
            return Facts.NONE;
        }
    }

    @Override
    public void restart(String app, Duration timeout) {
        for (Container c : containers(app)) {
            if ("running".equals(c.getState())) {
                engine.client().restartContainerCmd(c.getId()).withTimeout((int) Math.max(1, timeout.toSeconds()))
                        .exec();
            }
        }
    }

    @Override
    public boolean countsOwnRestarts() {
        return false;
    }

    @Override
    public void stop(String app, Duration timeout) {
        for (Container c : containers(app)) {
            if ("running".equals(c.getState()) || "restarting".equals(c.getState())) {
                try {
                    // docker sends SIGTERM, then SIGKILL after the timeout
                    engine.client().stopContainerCmd(c.getId()).withTimeout((int) Math.max(1, timeout.toSeconds()))
                            .exec();
                } catch (NotModifiedException | NotFoundException e) {
                    // already stopped or gone
                }
            }
        }
    }

    @Override
    public void start(LaunchSpec spec, Duration timeout) throws IOException {
        String name = containerName(spec);
        String print = fingerprint(spec);
        String id = null;
        for (Container c : containers(spec.app())) {
            if (name.equals(DockerContainers.name(c))) {
                Map<String, String> labels = c.getLabels() == null ? Map.of() : c.getLabels();
                if (print.equals(labels.get(LABEL_HASH))) {
                    id = c.getId();
                } else {
                    engine.client().removeContainerCmd(c.getId()).withForce(true).exec();
                }
            }
        }
        if (id == null) {
            if (use != null) {
                use.record();
            }
            id = engine.create(spec, name, print);
        }
        Set<String> seen = lastSeen;
        if (seen != null && !seen.contains(spec.app())) {
            Set<String> more = new TreeSet<>(seen);
            more.add(spec.app());
            lastSeen = Set.copyOf(more);
        }
        try {
            engine.client().startContainerCmd(id).exec();
        } catch (NotModifiedException e) {
            // already running
        }
    }

    @Override
    public void retire(String app, LaunchSpec live) {
        String keep = containerName(live);
        for (Container c : containers(app)) {
            if (!keep.equals(DockerContainers.name(c))) {
                engine.client().removeContainerCmd(c.getId()).withForce(true).exec();
            }
        }
    }

    @Override
    public void remove(String app, Duration timeout) {
        if (!mayHave(app)) {
            // only an app the engine listed has containers: removing a runit app needs no running engine (a
            // container missed while the engine is down is listed by a later resync and removed then)
            return;
        }
        stop(app, timeout);
        for (Container c : containers(app)) {
            try {
                engine.client().removeContainerCmd(c.getId()).withForce(true).exec();
            } catch (NotFoundException e) {
                // gone already
            }
        }
        Set<String> seen = lastSeen;
        if (seen != null && seen.contains(app)) {
            Set<String> fewer = new TreeSet<>(seen);
            fewer.remove(app);
            lastSeen = Set.copyOf(fewer);
        }
    }

    /**
     * Whether {@code app} had containers at the last full listing (refreshed by every resync and by every change
     * this runtime makes): lets runit apps skip a Docker round trip on each reconcile.
     */
    @Override
    public boolean mayHave(String app) {
        Set<String> seen = lastSeen;
        return (seen == null ? apps() : seen).contains(app);
    }

    /** The preparer made the image present and named its id in the install marker; setlive never pulls. */
    @Override
    public String imageId(InstallLayout.Marker marker) {
        if (marker.imageId() == null) {
            throw new IllegalArgumentException("install marker of docker version " + marker.version()
                    + " names no image id");
        }
        return marker.imageId();
    }

    /** Apps with containers of this host; empty when the engine is absent or unreachable (logged). */
    @Override
    public Set<String> apps() {
        Set<String> out = new TreeSet<>();
        try {
            for (Container c : containers(null)) {
                String app = c.getLabels() == null ? null : c.getLabels().get(LABEL_APP);
                if (app != null && Names.valid(app)) {
                    out.add(app);
                }
            }
            lastSeen = Set.copyOf(out);
        } catch (RuntimeException e) {
            // remembered as "none" until the next resync, so runit apps do not wait on a dead engine each time
            lastSeen = Set.of();
            log.warn("docker at {} unreachable, cannot list containers: {}", dockerHost, e.toString());
        }
        return out;
    }

    /** False when the engine's unix socket does not exist: a host without Docker has no containers. */
    boolean present() {
        return engine.present();
    }

    /** The engine's client (tests look at containers with it). */
    DockerClient client() {
        return engine.client();
    }

    @Override
    public void close() {
        engine.close();
    }
}
