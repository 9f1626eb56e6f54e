package io.intent.preparer;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.ReconcileContext;
import io.intent.agent.converge.Reconciler;
import io.intent.agent.converge.Result;
import io.intent.store.etcd.Entry;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.VersionSpec;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
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

    private final InstallLayout layout;
    private final ArtifactCache cache;
    private final Installer installer;
    private final Preparation preparation;
    private final ImageLedger ledger;
    private final ExecutorService pool;
    /** Per app and version, the work started (a failed one stays until the kit's backoff says to retry it). */
    private final Map<String, PrepareJob> jobs = new ConcurrentHashMap<>();
    private volatile DockerImages docker;
    private volatile ReconcileContext<Assignment> kit;

    public Preparer(PreparerSettings settings) throws IOException {
        this.layout = new InstallLayout(settings.root());
        this.cache = new ArtifactCache(settings.cacheDir());
        this.cache.removeStaleTemps();
        this.installer = new Installer(layout, new Unpacker(settings.maxUnpackedBytes(), settings.maxEntries()));
        this.ledger = new ImageLedger(layout.root().resolve("state").resolve("preparer-images.json"));
        this.preparation = new Preparation(settings, cache, new Fetcher(cache, settings), installer, ledger,
                this::docker);
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
        Set<String> complete = new HashSet<>();
        if (intent != null) {
            for (Map.Entry<String, VersionSpec> v : intent.versions().entrySet()) {
                if (complete(app, v.getKey(), v.getValue(), intent.isDocker())) {
                    complete.add(v.getKey());
                }
            }
        }
        // only a listed version is looked up: it is a valid version name, and only then does its sha256 matter;
        // a complete one has the intent's own (its marker was just read to say so)
        String currentSha256 = intent == null || current == null || !intent.versions().containsKey(current) ? null
                : complete.contains(current) && !intent.isDocker() ? intent.versions().get(current).sha256()
                : layout.completed(app, current).map(InstallLayout.Marker::sha256).orElse(null);
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
                preparation.prepare(job);
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
            if (!images.contains(id) && !preparation.loading(id)) {
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
        preparation.close();
        if (docker != null) {
            docker.close();
        }
    }
}
