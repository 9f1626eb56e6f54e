package io.intent.agent.converge.example;

import io.intent.agent.converge.ReconcileContext;
import io.intent.agent.converge.Reconciler;
import io.intent.agent.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.model.Assignment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The example agent of docs/converge-kit.md, written from that page alone: it keeps one file per app assigned to
 * this host, holding the app's active version, and an {@code index} listing every app the kit holds.
 */
public final class VersionFilesAgent implements Reconciler<Assignment>, AutoCloseable {
    private final Path dir;
    private volatile ReconcileContext<Assignment> kit;
    private volatile boolean closed;

    public VersionFilesAgent(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    @Override
    public String agent() {
        return "version-files";
    }

    @Override
    public void bind(ReconcileContext<Assignment> context) {
        this.kit = context;
    }

    @Override
    public Result reconcile(String app, Entry<Assignment> desired) throws IOException {
        Path file = dir.resolve(app + ".version");
        writeIndex();
        if (desired == null) {
            Files.deleteIfExists(file);
            return Result.removed();
        }
        Assignment a = desired.value();
        if (a.intent() == null) {
            return Result.failed(null, a.appRevision(), "assignment has no intent");
        }
        String version = a.intent().active();
        if (version == null) {
            // not a failure: a precondition the operator has yet to meet; the kit looks again soon
            return Result.waiting(null, a.appRevision(), "no active version yet");
        }
        if (version.startsWith("broken")) {
            // thrown: the kit reports FAILED with the attempt count and retries with backoff
            throw new IOException("version " + version + " cannot be written");
        }
        writeAtomically(file, version);
        return Result.ready(version, a.appRevision(), "wrote " + file.getFileName(), Map.of("file", file.toString()));
    }

    @Override
    public Set<String> actualNames() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".version"))
                    .map(n -> n.substring(0, n.length() - ".version".length())).collect(Collectors.toSet());
        }
    }

    /** The index is one artefact made from all names: read from the kit's view, never from etcd. */
    private void writeIndex() throws IOException {
        Set<String> apps = new TreeSet<>();
        kit.desired().forEach((name, e) -> {
            if (e.valid()) {
                apps.add(name);
            }
        });
        writeAtomically(dir.resolve("index"), apps.stream().map(n -> n + "\n").collect(Collectors.joining()));
    }

    /** Crash safety: a reader sees the old content or the new one, never half of it. */
    private void writeAtomically(Path file, String content) throws IOException {
        if (Files.exists(file) && Files.readString(file).equals(content)) {
            return; // idempotent: the same value again does nothing
        }
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Asks the kit to look at {@code app} again now: for an event the watch cannot see. */
    public void touched(String app) {
        kit.requeue(app);
    }

    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true; // nothing of its own runs; the kit calls this once, when it stops
    }
}
