package io.intent.setlive;

import static io.intent.setlive.RunitRuntime.LAST_EXIT_FILE;
import static io.intent.setlive.RunitRuntime.RESTARTS_FILE;
import static io.intent.setlive.RunitRuntime.SPEC_FILE;
import static io.intent.setlive.RunitRuntime.logDir;
import static io.intent.setlive.AtomicFiles.random;
import static io.intent.setlive.RunitRuntime.sha256;
import static io.intent.setlive.AtomicFiles.writeAtomically;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The files of one app's runit service dir, for {@link RunitRuntime}: {@code run}, {@code finish}, the spec file and
 * the {@code log/} service, with the log dir's svlogd {@code config}. Written in place when the dir exists, into a
 * supervised spare that is then renamed to the app's name, or else as a whole new dir by rename (with a
 * {@code down} file), so runsvdir never sees half of one.
 */
final class ServiceDir {
    private final InstallLayout layout;
    private final LogLimits logLimits;
    private final SpareServices spares;

    ServiceDir(InstallLayout layout, LogLimits logLimits, SpareServices spares) {
        this.layout = layout;
        this.logLimits = logLimits;
        this.spares = spares;
    }

    /**
     * Writes the service dir of {@code spec} with its rendered {@code script}; {@code newSpec}: the spec differs
     * from the one the dir had, so the restart count starts over. The app is not started.
     */
    void write(LaunchSpec spec, String script, boolean newSpec) throws IOException {
        Path logDir = logDir(layout.root(), spec.app());
        Files.createDirectories(logDir);
        writeAtomically(logDir.resolve("config"), logLimits.svlogdConfig().getBytes(StandardCharsets.UTF_8), false);
        byte[] logRun = LogScript.render(spec.app(), logDir).getBytes(StandardCharsets.UTF_8);
        byte[] specJson = Json.write(new RunitRuntime.SpecFile(sha256(script), spec));
        Path dir = layout.service(spec.app());
        byte[] finish = RunScript.finish().getBytes(StandardCharsets.UTF_8);
        if (Files.isDirectory(dir)) {
            if (newSpec) {
                // a new spec starts with no restarts counted (the spec file is written last: a crash before it
                // only resets again)
                Files.deleteIfExists(dir.resolve(RESTARTS_FILE));
                Files.deleteIfExists(dir.resolve(LAST_EXIT_FILE));
            }
            writeAtomically(dir.resolve("finish"), finish, true);
            writeAtomically(dir.resolve("log").resolve("run"), logRun, true);
            writeAtomically(dir.resolve("run"), script.getBytes(StandardCharsets.UTF_8), true);
            writeAtomically(dir.resolve(SPEC_FILE), specJson, false);
            if (Files.exists(dir.resolve("log").resolve("down"))) {
                // a claimed spare whose log service an interrupted start never brought up
                Sv.upLog(dir);
                Files.deleteIfExists(dir.resolve("log").resolve("down"));
            }
        } else if (spares.claim(dir, spare -> {
            writeAtomically(spare.resolve("log").resolve("run"), logRun, true);
            writeAtomically(spare.resolve("run"), script.getBytes(StandardCharsets.UTF_8), true);
            writeAtomically(spare.resolve("finish"), finish, true);
            writeAtomically(spare.resolve(SPEC_FILE), specJson, false);
        }).isPresent()) {
            // the spare's log service was held down until it had this app's svlogd script: start it before the app
            Sv.upLog(dir);
            Files.deleteIfExists(dir.resolve("log").resolve("down"));
        } else {
            // no supervised spare ready (a burst): a whole new service dir appears by rename, and runsvdir's next
            // scan picks it up; 'down' keeps runsv from starting it before we say so
            Path tmp = layout.servicesDir().resolve(".new-" + spec.app() + "-" + random());
            Files.createDirectories(tmp.resolve("log"));
            writeAtomically(tmp.resolve("log").resolve("run"), logRun, true);
            writeAtomically(tmp.resolve("run"), script.getBytes(StandardCharsets.UTF_8), true);
            writeAtomically(tmp.resolve(SPEC_FILE), specJson, false);
            writeAtomically(tmp.resolve("finish"), finish, true);
            Files.createFile(tmp.resolve("down"));
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /**
     * Brings the log dir's svlogd {@code config} to this agent's limits when they changed, and tells svlogd to
     * reread it (HUP): new limits apply without restarting the app.
     */
    void syncLogLimits(String app, Path serviceDir) {
        if (!Names.valid(app)) {
            return;
        }
        Path config = logDir(layout.root(), app).resolve("config");
        try {
            if (!Files.isDirectory(config.getParent())) {
                return;
            }
            String want = logLimits.svlogdConfig();
            if (Files.isRegularFile(config) && want.equals(Files.readString(config))) {
                return;
            }
            writeAtomically(config, want.getBytes(StandardCharsets.UTF_8), false);
            Path fifo = serviceDir.resolve("log/supervise/control");
            if (Files.readAttributes(fifo, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther()) {
                // O_RDWR on a fifo never blocks and never creates
                try (var ch = java.nio.channels.FileChannel.open(fifo, java.nio.file.StandardOpenOption.READ,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ch.write(java.nio.ByteBuffer.wrap(new byte[] {'h'}));
                }
            }
        } catch (IOException e) {
            // the old limits stay until the next look; the app is unaffected
        }
    }
}
