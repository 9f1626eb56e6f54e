package io.intent.preparer;

import io.intent.store.model.VersionSpec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/** One version being prepared in the background: what, how far the download is, and how it ended. */
final class PrepareJob {
    final String app;
    final String version;
    final VersionSpec spec;
    final boolean docker;
    final AtomicLong bytesDone = new AtomicLong();
    final AtomicLong bytesTotal = new AtomicLong(-1);
    final CompletableFuture<Void> outcome = new CompletableFuture<>();
    /** Whether a reconcile has reported its failure (it is then retried only after the kit's backoff). */
    volatile boolean reported;

    PrepareJob(String app, String version, VersionSpec spec, boolean docker) {
        this.app = app;
        this.version = version;
        this.spec = spec;
        this.docker = docker;
    }

    void progress(long done, long total) {
        bytesDone.set(done);
        bytesTotal.set(total);
    }

    boolean done() {
        return outcome.isDone();
    }

    /** Why it failed, or null when it succeeded (or still runs). */
    Throwable failure() {
        if (!outcome.isCompletedExceptionally()) {
            return null;
        }
        try {
            outcome.join();
            return null;
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause() == null ? e : e.getCause();
        }
    }
}
