package io.intent.setlive;

import io.intent.store.InstallLayout;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Runs apps under runit: one service dir per app ({@code services/<app>/}) holding the generated {@code run}
 * script and {@code intent-spec.json} (the spec it renders, with its fingerprint). Every file is written under a
 * temp name and renamed into place; a new service dir appears whole, by rename, so runsvdir never sees half of
 * one. App output goes to {@code setlive/logs/<app>.log}.
 */
public final class RunitRuntime implements AppRuntime {
    static final String SPEC_FILE = "intent-spec.json";
    private static final Duration SUPERVISE_WAIT = Duration.ofSeconds(15);

    /** The spec file's content. */
    record SpecFile(String fingerprint, LaunchSpec spec) {
    }

    private final InstallLayout layout;
    private final Path stateDir;
    private final Runsvdir.Mode runsvdir;
    private final SpareServices spares;
    private volatile boolean sparesMade;

    public RunitRuntime(InstallLayout layout, Runsvdir.Mode runsvdir) {
        this.layout = layout;
        this.stateDir = layout.root().resolve("setlive");
        this.runsvdir = runsvdir;
        this.spares = new SpareServices(layout.servicesDir());
    }

    @Override
    public String kind() {
        return "process";
    }

    /** setlive's own state: runsvdir's pid and log, app logs. */
    public Path stateDir() {
        return stateDir;
    }

    Path logFile(String app) {
        return stateDir.resolve("logs").resolve(Names.require("app", app) + ".log");
    }

    String script(LaunchSpec spec) {
        return RunScript.render(spec, layout.current(spec.app()), logFile(spec.app()));
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
        Files.createDirectories(logFile(spec.app()).getParent());
        String script = script(spec);
        byte[] specJson = Json.write(new SpecFile(sha256(script), spec));
        Path dir = layout.service(spec.app());
        if (Files.isDirectory(dir)) {
            writeAtomically(dir.resolve("run"), script.getBytes(StandardCharsets.UTF_8), true);
            writeAtomically(dir.resolve(SPEC_FILE), specJson, false);
        } else if (spares.claim(dir, spare -> {
            writeAtomically(spare.resolve("run"), script.getBytes(StandardCharsets.UTF_8), true);
            writeAtomically(spare.resolve(SPEC_FILE), specJson, false);
        }).isEmpty()) {
            // no supervised spare ready (a burst): a whole new service dir appears by rename, and runsvdir's next
            // scan picks it up; 'down' keeps runsv from starting it before we say so
            Path tmp = layout.servicesDir().resolve(".new-" + spec.app() + "-" + random());
            Files.createDirectories(tmp);
            writeAtomically(tmp.resolve("run"), script.getBytes(StandardCharsets.UTF_8), true);
            writeAtomically(tmp.resolve(SPEC_FILE), specJson, false);
            Files.createFile(tmp.resolve("down"));
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        }
        if (!Sv.awaitSupervised(dir, SUPERVISE_WAIT)) {
            throw new IOException("runsvdir did not pick up " + dir + " within " + SUPERVISE_WAIT.toSeconds() + " s");
        }
        Sv.up(dir);
        // from now on runit alone brings the app back (e.g. after a reboot), agent or not
        Files.deleteIfExists(dir.resolve("down"));
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
        Path gone = layout.servicesDir().resolve(".gone-" + app + "-" + random());
        Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        Sv.exit(gone);
        deleteTree(gone);
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
                    deleteTree(p);
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

    static void writeAtomically(Path target, byte[] content, boolean executable) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + random());
        try {
            Files.write(tmp, content);
            if (executable) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String random() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong());
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
