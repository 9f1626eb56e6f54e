package io.intent.preparer;

import io.intent.store.InstallLayout;
import io.intent.store.converge.ReconcileContext;
import io.intent.store.converge.Reconciler;
import io.intent.store.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.VersionSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
 * <p>A reconcile looks at the host (installs, {@code current}, work started), asks {@link PreparePlanner} what to
 * do, and does it. Fetching and unpacking run in the background on a pool of {@code concurrentDownloads} threads,
 * so a slow or failing artifact never holds a converge worker: {@code reconcile} starts the work, reports
 * {@code PROGRESSING} with bytes done and total, and requeues its app through the kit when the work ends. A failed
 * version is reported and retried after the kit's capped exponential backoff; other versions and other apps carry
 * on meanwhile.
 */
public final class Preparer implements Reconciler<Assignment>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Preparer.class);
    public static final String AGENT = "preparer";

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
            return execute(app, null, PreparePlanner.unassigned(observe(app, null)));
        }
        Assignment a = desired.value();
        Optional<Result> refusal = PreparePlanner.refusal(app, a);
        if (refusal.isPresent()) {
            return refusal.get();
        }
        return execute(app, a.intent(), PreparePlanner.assigned(a, observe(app, a.intent())));
    }

    /** What the host has for {@code app}: installs on disk, {@code current}, and the work started for it. */
    private PreparePlanner.Observed observe(String app, AppIntent intent) throws IOException, PrepareException {
        String current = layout.currentVersion(app).orElse(null);
        String currentSha256 = current == null ? null
                : layout.completed(app, current).map(InstallLayout.Marker::sha256).orElse(null);
        Set<String> complete = new HashSet<>();
        if (intent != null) {
            for (Map.Entry<String, VersionSpec> v : intent.versions().entrySet()) {
                if (complete(app, v.getKey(), v.getValue(), intent.isDocker())) {
                    complete.add(v.getKey());
                }
            }
        }
        Map<String, PreparePlanner.Work> work = new HashMap<>();
        for (PrepareJob job : jobs.values()) {
            if (job.app.equals(app)) {
                work.put(job.version, job.done() ? PreparePlanner.Work.ended(job.spec, describe(job), job.reported)
                        : PreparePlanner.Work.running(job.spec, job.bytesDone.get(), job.bytesTotal.get()));
            }
        }
        return new PreparePlanner.Observed(installer.versionsOnDisk(app), current, currentSha256, complete, work,
                backingOff(app));
    }

    /** Does what the plan says for {@code app} (assigned {@code intent}, or null), then returns its status. */
    private Result execute(String app, AppIntent intent, PreparePlanner.Plan plan)
            throws IOException, PrepareException {
        for (String version : plan.forget()) {
            jobs.computeIfPresent(app + "/" + version, (k, j) -> j.done() ? null : j);
        }
        plan.firstReports().forEach((version, why) -> {
            PrepareJob job = jobs.get(app + "/" + version);
            if (job != null) {
                job.reported = true;
            }
            log.warn("preparing {}/{} failed: {}", app, version, why);
        });
        for (String version : plan.start()) {
            start(app, version, intent.versions().get(version), intent.isDocker());
        }
        for (String version : plan.remove()) {
            log.info("removing {}/{}: no longer listed", app, version);
            installer.remove(app, version);
            jobs.remove(app + "/" + version);
        }
        if (plan.removeAppDir()) {
            installer.removeAppDirIfEmpty(app);
        }
        if (!plan.remove().isEmpty()) {
            sweep();
        }
        return plan.result();
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
