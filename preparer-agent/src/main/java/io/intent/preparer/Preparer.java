package io.intent.preparer;

import io.intent.store.InstallLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.converge.ReconcileContext;
import io.intent.store.converge.Reconciler;
import io.intent.store.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.VersionSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The preparer agent's reconciler: every version an assignment on this host lists must be present, verified
 * and complete under {@code installs/<app>/<version>/}; versions no longer listed are removed, except the one
 * {@code current} points to.
 *
 * <p>Fetching and unpacking run in the background on a pool of {@code concurrentDownloads} threads, so a slow
 * or failing artifact never holds a converge worker: {@code reconcile} starts the work, reports
 * {@code PROGRESSING} with bytes done and total, and requeues its app through the kit when the work ends. A failed
 * version is reported and retried after the kit's capped exponential backoff; other versions and other apps carry
 * on meanwhile.
 */
public final class Preparer implements Reconciler<Assignment>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Preparer.class);
    public static final String AGENT = "preparer";
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

    private final PreparerSettings settings;
    private final InstallLayout layout;
    private final ArtifactCache cache;
    private final Fetcher fetcher;
    private final Installer installer;
    private final ImageLedger ledger;
    private final ExecutorService pool;
    private final ExecutorService unpackPool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "preparer-unpack");
        t.setDaemon(true);
        return t;
    });
    /** Per app and version, the work started (a failed one stays until the kit's backoff says to retry it). */
    private final Map<String, PrepareJob> jobs = new ConcurrentHashMap<>();
    private final Set<String> imagesInFlight = ConcurrentHashMap.newKeySet();
    private volatile DockerImages docker;
    private volatile ReconcileContext<Assignment> kit;

    public Preparer(PreparerSettings settings) throws IOException {
        this.settings = settings;
        this.layout = new InstallLayout(settings.root());
        this.cache = new ArtifactCache(settings.cacheDir());
        this.cache.removeStaleTemps();
        this.fetcher = new Fetcher(cache, settings);
        this.installer = new Installer(layout, new Unpacker(settings.maxUnpackedBytes(), settings.maxEntries()));
        this.ledger = new ImageLedger(layout.root().resolve("state").resolve("preparer-images.json"));
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(settings.concurrentDownloads(), r -> {
            Thread t = new Thread(r, "preparer-fetch-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            sweep();
        } catch (IOException | PrepareException | RuntimeException e) {
            log.warn("startup sweep of cache and images failed: {}; retried after the next removal", e.getMessage());
        }
    }

    @Override
    public String agent() {
        return AGENT;
    }

    /** Keeps the kit's handle: background work that ends requeues its app, so it is reconciled again at once. */
    @Override
    public void bind(ReconcileContext<Assignment> context) {
        this.kit = context;
    }

    public InstallLayout layout() {
        return layout;
    }

    @Override
    public Set<String> actualNames() throws IOException {
        return installer.appsOnDisk();
    }

    @Override
    public Result reconcile(String app, Entry<Assignment> desired) throws Exception {
        installer.removeStaleTemps(app);
        if (desired == null) {
            jobs.entrySet().removeIf(e -> e.getValue().app.equals(app) && e.getValue().done());
            collect(app, Set.of());
            return jobsOf(app) ? Result.waiting(null, 0, "unassigned; waiting for running work to end")
                    : Result.removed();
        }
        Assignment a = desired.value();
        AppIntent intent = a.intent();
        long rev = a.appRevision();
        if (intent == null) {
            return Result.failed(null, rev, "assignment has no intent");
        }
        List<String> problems = new ArrayList<>();
        for (FieldError e : Validation.check(app, intent)) {
            if (e.field().startsWith("versions") || e.field().equals("runtime") || e.field().equals("name")) {
                problems.add(e.toString());
            }
        }
        if (!problems.isEmpty()) {
            return Result.failed(intent.active(), rev, "cannot prepare: " + String.join("; ", problems));
        }

        List<String> ready = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<PrepareJob> running = new ArrayList<>();
        for (String version : new TreeSet<>(intent.versions().keySet())) {
            VersionSpec spec = intent.versions().get(version);
            String key = app + "/" + version;
            if (complete(app, version, spec, intent.isDocker())) {
                ready.add(version);
                jobs.computeIfPresent(key, (k, j) -> j.done() ? null : j);
                continue;
            }
            String inUse = inUseWithOtherBytes(app, version, spec, intent.isDocker());
            if (inUse != null) {
                failed.add(version + ": " + inUse);
                continue;
            }
            PrepareJob job = jobs.get(key);
            if (job != null && job.done()) {
                if (job.spec.equals(spec) && (!job.reported || backingOff(app))) {
                    // reported once, then left to the kit's backoff: a reconcile before it runs out redoes nothing
                    if (!job.reported) {
                        job.reported = true;
                        log.warn("preparing {} failed: {}", key, describe(job));
                    }
                    failed.add(version + ": " + describe(job));
                    continue;
                }
                // the backoff ran out (retry), or it prepared an older spec of this version: start over
                jobs.remove(key);
                job = null;
            }
            if (job == null) {
                job = start(app, version, spec, intent.isDocker());
            }
            running.add(job);
        }
        collect(app, intent.versions().keySet());

        Map<String, Object> details = new LinkedHashMap<>();
        details.put("versions", ready);
        if (!running.isEmpty()) {
            long done = 0;
            long total = 0;
            boolean known = true;
            List<String> preparing = new ArrayList<>();
            for (PrepareJob j : running) {
                preparing.add(j.version);
                done += j.bytesDone.get();
                long t = j.bytesTotal.get();
                known &= t >= 0;
                total += Math.max(0, t);
            }
            details.put("preparing", preparing);
            details.put("bytesDone", done);
            details.put("bytesTotal", known ? total : -1);
        }
        if (!failed.isEmpty()) {
            details.put("failed", failed.stream().map(s -> s.substring(0, s.indexOf(':'))).toList());
            // the kit retries after its backoff; while other versions download, look sooner to report progress
            return new Result(Phase.FAILED, intent.active(), rev, "cannot prepare " + String.join("; ", failed),
                    details, running.isEmpty() ? null : PROGRESS_EVERY, false);
        }
        if (!running.isEmpty()) {
            return Result.progressing(intent.active(), rev, "preparing " + details.get("preparing"), details)
                    .requeueAfter(PROGRESS_EVERY);
        }
        return Result.ready(intent.active(), rev, "prepared " + ready.size() + " version"
                + (ready.size() == 1 ? "" : "s"), details);
    }

    /**
     * Why the install of {@code version} may not be replaced now, or null: it is the one {@code current} points to
     * (an app runs from it) and the intent names other bytes for it. Replacing it would change the running app's
     * files behind setlive's rollout slots and health gate, so new bytes need a new version name.
     */
    private String inUseWithOtherBytes(String app, String version, VersionSpec spec, boolean isDocker) {
        if (isDocker || spec.sha256() == null || !layout.currentVersion(app).filter(version::equals).isPresent()) {
            return null;
        }
        return layout.completed(app, version).map(InstallLayout.Marker::sha256)
                .filter(had -> had != null && !had.equals(spec.sha256()))
                .map(had -> "refusing to replace the install of " + version + " in use (sha256 " + had
                        + ") with other bytes (sha256 " + spec.sha256() + "); publish them under a new version name")
                .orElse(null);
    }

    /** Why a finished job did not leave a complete install. */
    private static String describe(PrepareJob job) {
        Throwable err = job.failure();
        if (err == null) {
            // finished but incomplete now: removed or damaged meanwhile; reported, then redone
            return "install ended but is not complete on disk";
        }
        return err instanceof PrepareException ? err.getMessage()
                : err.getClass().getSimpleName() + ": " + err.getMessage();
    }

    private boolean backingOff(String app) {
        ReconcileContext<Assignment> k = kit;
        return k != null && k.backingOff(app);
    }

    /** A version is complete when its marker is there with the expected digest, and its image, if any, exists. */
    private boolean complete(String app, String version, VersionSpec spec, boolean isDocker) throws PrepareException {
        Optional<InstallLayout.Marker> m = layout.completed(app, version);
        if (m.isEmpty()) {
            return false;
        }
        InstallLayout.Marker marker = m.get();
        if (!isDocker) {
            return Objects.equals(marker.sha256(), spec.sha256()) && marker.imageId() == null;
        }
        if (marker.imageId() == null) {
            return false;
        }
        if (spec.image() != null) {
            return marker.sha256() == null
                    && docker().imageId(spec.image()).map(marker.imageId()::equals).orElse(false);
        }
        return Objects.equals(marker.sha256(), spec.sha256()) && docker().imageId(marker.imageId()).isPresent();
    }

    /** Versions being fetched or unpacked right now (a gauge for /metrics). */
    public int running() {
        return (int) jobs.values().stream().filter(j -> !j.done()).count();
    }

    private boolean jobsOf(String app) {
        return jobs.values().stream().anyMatch(j -> j.app.equals(app) && !j.done());
    }

    private PrepareJob start(String app, String version, VersionSpec spec, boolean isDocker) {
        PrepareJob job = new PrepareJob(app, version, spec, isDocker);
        jobs.put(app + "/" + version, job);
        pool.execute(() -> {
            try {
                prepare(job);
                job.outcome.complete(null);
            } catch (Throwable t) {
                job.outcome.completeExceptionally(t);
            } finally {
                ReconcileContext<Assignment> k = kit;
                if (k != null) {
                    k.requeue(app);
                }
            }
        });
        return job;
    }

    /** The background work for one version: fetch, verify, unpack or load, commit. */
    private void prepare(PrepareJob job) throws IOException, PrepareException {
        VersionSpec spec = job.spec;
        if (job.docker && spec.image() != null) {
            String id = docker().imageId(spec.image()).orElse(null);
            if (id == null) {
                id = docker().pull(spec.image(), settings.downloadTimeout());
                ledger.add(id);
            }
            installer.install(job.app, job.version, null, id, Installer.MARKER_ONLY, () -> { });
            return;
        }
        cache.pin(spec.sha256());
        try {
            long t0 = System.nanoTime();
            String format = spec.formatOrInferred();
            if (!job.docker && Unpacker.streamable(format) && cache.lookup(spec.sha256()).isEmpty()) {
                streamInstall(job, format);
            } else {
                Path artifact = fetcher.fetch(spec.artifact(), spec.sha256(), job::progress);
                if (job.docker) {
                    loadImage(job, artifact);
                } else {
                    installer.install(job.app, job.version, spec.sha256(), null,
                            installer.archive(artifact, format), () -> { });
                }
            }
            log.info("prepared {}/{} in {} ms", job.app, job.version, (System.nanoTime() - t0) / 1_000_000);
        } finally {
            cache.unpin(spec.sha256());
        }
    }

    /** Unpacks while downloading; the install commits only once the whole download matched its sha256. */
    private void streamInstall(PrepareJob job, String format) throws IOException, PrepareException {
        VersionSpec spec = job.spec;
        BytePipe pipe = new BytePipe();
        java.io.InputStream in = pipe.input();
        Future<?> unpack = unpackPool.submit(() -> {
            try (in) { // whatever happens, release the fetch from the pipe
                return installer.install(job.app, job.version, spec.sha256(), null, installer.stream(in, format),
                        pipe::awaitVerified);
            }
        });
        try {
            fetcher.fetch(spec.artifact(), spec.sha256(), job::progress, pipe);
            pipe.verified();
        } catch (Throwable e) {
            // anything, even an Error: the unpacker waits on the pipe and must be released
            pipe.fail(e);
            try {
                unpack.get();
            } catch (InterruptedException | ExecutionException ignored) {
                // the fetch failure is the reason; the unpack only stopped because of it
            }
            throw e;
        }
        try {
            unpack.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PrepareException("interrupted while unpacking");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof PrepareException p) {
                throw p;
            }
            if (c instanceof IOException io) {
                throw io;
            }
            throw new PrepareException("unpacking failed: " + c, c);
        }
    }

    private void loadImage(PrepareJob job, Path artifact) throws IOException, PrepareException {
        String id = DockerImages.archiveImageId(artifact);
        imagesInFlight.add(id);
        try {
            if (docker().imageId(id).isEmpty()) {
                ledger.add(id);
                docker().load(artifact, id);
            }
            installer.install(job.app, job.version, job.spec.sha256(), id, Installer.MARKER_ONLY, () -> { });
        } finally {
            imagesInFlight.remove(id);
        }
    }

    /**
     * Removes installs of {@code app} whose version is not in {@code keep}, never the one {@code current} points
     * to, nor one being prepared; then images and cache entries nothing on disk refers to any more.
     */
    private void collect(String app, Set<String> keep) throws IOException, PrepareException {
        String current = layout.currentVersion(app).orElse(null);
        boolean removed = false;
        for (String version : installer.versionsOnDisk(app)) {
            PrepareJob job = jobs.get(app + "/" + version);
            if (keep.contains(version) || version.equals(current) || (job != null && !job.done())) {
                continue;
            }
            try {
                InstallLayout.requireVersion(version);
            } catch (RuntimeException e) {
                continue; // not ours: never delete what we could not have made
            }
            log.info("removing {}/{}: no longer listed", app, version);
            installer.remove(app, version);
            jobs.remove(app + "/" + version);
            removed = true;
        }
        if (keep.isEmpty()) {
            installer.removeAppDirIfEmpty(app);
        }
        if (removed) {
            sweep();
        }
    }

    /** Removes cache entries and ledger images that no install on disk and no running work refers to. */
    void sweep() throws IOException, PrepareException {
        Set<String> shas = new HashSet<>();
        Set<String> images = new HashSet<>();
        for (String app : installer.appsOnDisk()) {
            for (String version : installer.versionsOnDisk(app)) {
                try {
                    layout.completed(app, version).ifPresent(m -> {
                        if (m.sha256() != null) {
                            shas.add(m.sha256());
                        }
                        if (m.imageId() != null) {
                            images.add(m.imageId());
                        }
                    });
                } catch (RuntimeException e) {
                    // a directory name that is no valid version: not ours
                }
            }
        }
        cache.retainOnly(shas);
        for (String id : ledger.all()) {
            if (!images.contains(id) && !imagesInFlight.contains(id)) {
                if (docker().remove(id)) {
                    log.info("removed image {}: no install refers to it", id);
                    ledger.remove(id);
                } else {
                    log.info("image {} is still used by a container; kept for now", id);
                }
            }
        }
    }

    private DockerImages docker() {
        DockerImages d = docker;
        if (d == null) {
            synchronized (this) {
                if (docker == null) {
                    docker = DockerImages.connect();
                }
                d = docker;
            }
        }
        return d;
    }

    @Override
    public void close() throws IOException {
        pool.shutdownNow();
        unpackPool.shutdownNow();
        if (docker != null) {
            docker.close();
        }
    }
}
