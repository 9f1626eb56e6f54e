package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Runs apps under runit: one service dir per app ({@code services/<app>/}) holding the generated {@code run}
 * script and {@code intent-spec.json} (the spec it renders, with its fingerprint), and a {@code log/} service whose
 * {@code run} ({@link LogScript}) is svlogd: the app's stdout and stderr go to {@code setlive/logs/<app>/current},
 * rotated by size and count ({@link LogLimits}, in that dir's svlogd {@code config}). Every file is written under
 * a temp name and renamed into place; a new service dir appears whole, by rename, so runsvdir never sees half of
 * one.
 */
public final class RunitRuntime implements AppRuntime {
    static final String SPEC_FILE = "intent-spec.json";
    /** Written by the {@code finish} script: how often the app exited unasked since its spec was started. */
    static final String RESTARTS_FILE = "restarts";
    /** Written by the {@code finish} script: {@code <epoch seconds> <exit code> <signal>} of the last such exit. */
    static final String LAST_EXIT_FILE = "last-exit";
    private static final Duration SUPERVISE_WAIT = Duration.ofSeconds(15);

    /** The spec file's content. */
    record SpecFile(String fingerprint, LaunchSpec spec) {
    }

    private final InstallLayout layout;
    private final Path stateDir;
    private final Runsvdir.Mode runsvdir;
    private volatile Path nodeConfig;
    private final LogLimits logLimits;
    private final SpareServices spares;
    private final ServiceDir serviceDir;
    private volatile boolean sparesMade;

    public RunitRuntime(InstallLayout layout, Runsvdir.Mode runsvdir) {
        this(layout, runsvdir, LogLimits.DEFAULT);
    }

    public RunitRuntime(InstallLayout layout, Runsvdir.Mode runsvdir, LogLimits logLimits) {
        this.layout = layout;
        this.stateDir = layout.root().resolve("setlive");
        this.runsvdir = runsvdir;
        this.logLimits = logLimits;
        this.spares = new SpareServices(layout.servicesDir());
        this.serviceDir = new ServiceDir(layout, logLimits, spares);
    }

    @Override
    public String kind() {
        return "process";
    }

    /** setlive's own state: runsvdir's pid and log, app logs. */
    public Path stateDir() {
        return stateDir;
    }

    /** svlogd's dir of {@code app}'s output: {@code current} and the rotated {@code @<stamp>.s} files. */
    public static Path logDir(Path root, String app) {
        return root.resolve("setlive").resolve("logs").resolve(Names.require("app", app));
    }

    Path logDir(String app) {
        return logDir(layout.root(), app);
    }

    String script(LaunchSpec spec) {
        if (SelfDeploy.isNode(spec.app())) {
            // the node itself: the watchdog first, and the config file the deploying node runs with
            Path current = layout.current(spec.app());
            return RunScript.render(spec, current, SelfDeploy.watchdog(layout.service(spec.app()), current,
                    layout.install(spec.app(), "x").getParent()),
                    nodeConfig == null ? List.of() : List.of("--config", nodeConfig.toAbsolutePath().toString()));
        }
        return RunScript.render(spec, layout.current(spec.app()));
    }

    /** The config file a node started as the {@value SelfDeploy#APP} app gets: this agent's own, if any. */
    void nodeConfig(Path file) {
        this.nodeConfig = file;
    }

    @Override
    public String fingerprint(LaunchSpec spec) {
        return sha256(script(spec));
    }

    /** Makes sure a runsvdir supervises the services dir (starting our own when none does, if the mode allows). */
    public long supervisor() throws IOException {
        if (!sparesMade) {
            // before a runsvdir we start ourselves: its first scan then supervises the spares at once
            SpareServices.sweepUnfinished(layout.servicesDir());
            spares.refill();
            sparesMade = true;
        }
        return Runsvdir.ensure(layout.servicesDir(), stateDir, runsvdir);
    }

    @Override
    public Optional<Instance> inspect(String app) throws IOException {
        Path dir = layout.service(app);
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        LaunchSpec spec = null;
        String fingerprint = "";
        serviceDir.syncLogLimits(app, dir);
        Path specFile = dir.resolve(SPEC_FILE);
        if (Files.isRegularFile(specFile)) {
            try {
                SpecFile f = Json.read(Files.readAllBytes(specFile), SpecFile.class);
                spec = f.spec();
                fingerprint = f.fingerprint();
            } catch (InvalidValueException e) {
                fingerprint = "unreadable";
            }
        }
        // status is stale when no runsv supervises the dir (e.g. runsvdir died): treat that as down
        Sv.Status st = Sv.status(dir);
        boolean up = st.up() && st.wantUp() && ProcessHandle.of(st.pid()).map(ProcessHandle::isAlive).orElse(false);
        return Optional.of(new Instance(spec, fingerprint, up, up ? st.pid() : 0, st.since()));
    }

    @Override
    public void stop(String app, Duration timeout) throws IOException, InterruptedException {
        Path dir = layout.service(app);
        if (!Files.isDirectory(dir)) {
            return;
        }
        supervisor();
        if (!Sv.awaitSupervised(dir, SUPERVISE_WAIT)) {
            throw new IOException("no runsv supervises " + dir + " after " + SUPERVISE_WAIT.toSeconds() + " s");
        }
        Sv.down(dir, timeout);
    }

    @Override
    public void start(LaunchSpec spec, Duration timeout) throws IOException, InterruptedException {
        supervisor();
        sweep(spec.app());
        Path dir = layout.service(spec.app());
        if (Files.isDirectory(dir) && !Files.isDirectory(dir.resolve("log"))) {
            // a service dir from before log services: runsv looks for log/ only when it starts, so it is remade
            remove(spec.app(), timeout);
        }
        String script = script(spec);
        boolean newSpec = !sha256(script).equals(inspect(spec.app()).map(Instance::fingerprint).orElse(""));
        serviceDir.write(spec, script, newSpec);
        if (!Sv.awaitSupervised(dir, SUPERVISE_WAIT)) {
            throw new IOException("runsvdir did not pick up " + dir + " within " + SUPERVISE_WAIT.toSeconds() + " s");
        }
        Sv.up(dir);
        // from now on runit alone brings the app back (e.g. after a reboot), agent or not
        Files.deleteIfExists(dir.resolve("down"));
    }

    @Override
    public Facts facts(String app) throws IOException {
        Path dir = layout.service(app);
        if (!Files.isDirectory(dir)) {
            return Facts.NONE;
        }
        Optional<Instance> i = inspect(app);
        boolean up = i.isPresent() && i.get().up();
        int restarts = 0;
        Integer code = null;
        Integer signal = null;
        try {
            restarts = Integer.parseInt(Files.readString(dir.resolve(RESTARTS_FILE)).trim());
        } catch (IOException | NumberFormatException e) {
            // none yet, or being replaced: 0 until the next look
        }
        try {
            String[] f = Files.readString(dir.resolve(LAST_EXIT_FILE)).trim().split(" ");
            if (f.length == 3) {
                code = Integer.parseInt(f[1]);
                int sig = Integer.parseInt(f[2]);
                // runsv passes the low byte of the wait status: the signal when code is -1
                signal = code == -1 ? sig & 0x7f : null;
            }
        } catch (IOException | NumberFormatException e) {
            // no exit recorded
        }
        return new Facts(up ? Long.toString(i.get().pid()) : null, up ? i.get().since() : null, restarts, code,
                signal, null);
    }

    @Override
    public void restart(String app, Duration timeout) throws IOException, InterruptedException {
        Path dir = layout.service(app);
        Sv.Status before = Sv.status(dir);
        // TERM without changing what runsv wants: it restarts the app, and the finish script counts the restart
        Sv.control(dir, "t");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Sv.Status now = Sv.status(dir);
            if (now.pid() != before.pid() || !now.up()) {
                return;
            }
            Thread.sleep(10);
        }
        Sv.control(dir, "k");
    }

    @Override
    public boolean countsOwnRestarts() {
        return true;
    }

    @Override
    public void retire(String app, LaunchSpec live) {
        // runit keeps nothing but the one service dir
    }

    @Override
    public void remove(String app, Duration timeout) throws IOException, InterruptedException {
        Path dir = layout.service(app);
        sweep(app);
        if (!Files.isDirectory(dir)) {
            return;
        }
        stop(app, timeout);
        // out of runsvdir's sight first (it ignores dot names), then let runsv go and delete
        Path gone = layout.servicesDir().resolve(".gone-" + app + "-" + AtomicFiles.random());
        Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        Sv.exit(gone);
        AtomicFiles.deleteTree(gone);
    }

    /** Deletes what a crash may have left of earlier starts and removals of {@code app}. */
    private void sweep(String app) throws IOException, InterruptedException {
        Path services = layout.servicesDir();
        if (!Files.isDirectory(services)) {
            return;
        }
        try (Stream<Path> s = Files.list(services)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".new-" + app + "-") || n.startsWith(".gone-" + app + "-")) {
                    Sv.exit(p);
                    AtomicFiles.deleteTree(p);
                }
            }
        }
    }

    @Override
    public Set<String> apps() throws IOException {
        Set<String> out = new TreeSet<>();
        Path services = layout.servicesDir();
        if (!Files.isDirectory(services)) {
            return out;
        }
        try (Stream<Path> s = Files.list(services)) {
            s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(Names::valid)
                    .forEach(out::add);
        }
        return out;
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
