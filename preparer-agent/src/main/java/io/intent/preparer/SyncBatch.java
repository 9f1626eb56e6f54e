package io.intent.preparer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Future;

/**
 * fsyncs a batch of files and directories in parallel once everything is written, then waits for all of
 * them. One fsync costs about 4 ms here; issued from many threads the file system commits them together
 * (measured: 500 files in 80 ms with 32 threads against 2.2 s one by one). Issuing them while still
 * unpacking was measured slower (unpack of a 10 MB tar.gz 240-1470 ms against 90-320 ms deferred under the
 * same load): each fsync forces a journal commit that stalls the writes still going on.
 */
final class SyncBatch {
    /** 16 threads while a batch runs; idle ones end after 10 s (a node mostly has nothing to sync). */
    private static final ExecutorService POOL = idleEnding(16, "preparer-fsync");

    private static ExecutorService idleEnding(int threads, String name) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 10, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, name);
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private final List<Future<?>> pending = new ArrayList<>();

    private final List<Path> deferred = new ArrayList<>();

    /** Adds {@code p} (a file or directory) to the batch; a path deleted meanwhile is skipped. */
    void submit(Path p) {
        deferred.add(p);
    }

    private void start(Path p) {
        pending.add(POOL.submit(() -> {
            try {
                Durable.fsync(p);
            } catch (NoSuchFileException e) {
                // replaced by a later entry of the same name: that one is synced instead
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
    }

    /** Runs every fsync of the batch and waits until all finished; the first failure is rethrown. */
    void await() throws IOException {
        deferred.forEach(this::start);
        deferred.clear();
        try {
            for (Future<?> f : pending) {
                f.get();
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("fsync failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for fsync");
        } finally {
            pending.clear();
        }
    }
}
