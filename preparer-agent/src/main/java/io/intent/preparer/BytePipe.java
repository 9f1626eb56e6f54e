package io.intent.preparer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Hands a download to the unpacker while it streams, so unpacking overlaps fetching; the unpacker must not
 * commit until {@link #awaitVerified()} says the sha256 of the whole stream matched. If the reader stops
 * early (end of the tar, or a refused entry) the writer's further bytes are dropped and the download still
 * completes into the cache.
 */
final class BytePipe {
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(64);
    private final CountDownLatch settled = new CountDownLatch(1);
    private volatile Throwable failure;
    private volatile boolean readerClosed;

    /** Called by the fetcher with each chunk as it arrives (already hashed and written to the cache). */
    void write(ByteBuffer buf) throws IOException {
        if (readerClosed || !buf.hasRemaining()) {
            return;
        }
        byte[] b = new byte[buf.remaining()];
        buf.duplicate().get(b);
        put(b);
    }

    private void put(byte[] b) throws IOException {
        try {
            while (!readerClosed && !chunks.offer(b, 100, TimeUnit.MILLISECONDS)) {
                // the unpacker is behind: wait, unless it gave up
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while passing the download on");
        }
    }

    /** The whole stream arrived and its digest matched. */
    void verified() throws IOException {
        put(END);
        settled.countDown();
    }

    /** The download failed: the reader gets an error, the commit gate refuses. */
    void fail(Throwable why) {
        failure = why;
        chunks.offer(END);
        settled.countDown();
    }

    /** Blocks until the fetch finished; throws unless the digest matched. */
    void awaitVerified() throws PrepareException {
        try {
            settled.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PrepareException("interrupted while waiting for the download to be verified");
        }
        if (failure != null) {
            throw new PrepareException("download failed: " + failure.getMessage(), failure);
        }
    }

    /** The unpacker's side. */
    InputStream input() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int pos;

            private boolean fill() throws IOException {
                while (pos >= current.length) {
                    if (current == END) {
                        return false;
                    }
                    try {
                        current = chunks.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while unpacking");
                    }
                    pos = 0;
                    if (current == END) {
                        if (failure != null) {
                            throw new IOException("download failed: " + failure.getMessage(), failure);
                        }
                        return false;
                    }
                }
                return true;
            }

            @Override
            public int read() throws IOException {
                return fill() ? current[pos++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (!fill()) {
                    return -1;
                }
                int n = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public void close() {
                readerClosed = true;
                chunks.clear();
            }
        };
    }
}
