package io.intent.preparer;

import io.intent.store.model.VersionSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background work that prepares one version, on a {@link Preparer} pool thread: fetch, verify, unpack (while
 * downloading, for tar and tar.gz) or load the image, then commit the install.
 */
final class Preparation implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Preparation.class);

    private final PreparerSettings settings;
    private final ArtifactCache cache;
    private final Fetcher fetcher;
    private final Installer installer;
    private final ImageLedger ledger;
    private final Supplier<DockerImages> docker;
    private final ExecutorService unpackPool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "preparer-unpack");
        t.setDaemon(true);
        return t;
    });
    /** Images being loaded: no marker refers to them yet, and the sweep must not remove them meanwhile. */
    private final Set<String> imagesInFlight = ConcurrentHashMap.newKeySet();

    Preparation(PreparerSettings settings, ArtifactCache cache, Fetcher fetcher, Installer installer,
                ImageLedger ledger, Supplier<DockerImages> docker) {
        this.settings = settings;
        this.cache = cache;
        this.fetcher = fetcher;
        this.installer = installer;
        this.ledger = ledger;
        this.docker = docker;
    }

    /** Whether image {@code id} is being loaded right now. */
    boolean loading(String id) {
        return imagesInFlight.contains(id);
    }

    /** The background work for one version: fetch, verify, unpack or load, commit. */
    void prepare(PrepareJob job) throws IOException, PrepareException {
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
        InputStream in = pipe.input();
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

    private DockerImages docker() {
        return docker.get();
    }

    @Override
    public void close() {
        unpackPool.shutdownNow();
    }
}
