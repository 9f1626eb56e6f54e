package io.intent.preparer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Passes bytes from one thread to another a few chunks ahead: a download to the unpacker while it streams
 * (the unpacker must not commit until {@link #awaitVerified()} says the sha256 of the whole stream
 * matched), or inflated bytes to the tar reader. If the reader stops early (end of the tar, or a refused
 * entry) the writer's further bytes are dropped, so the download still completes into the cache.
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

    /** Passes a chunk the writer will not touch again, without copying it. */
    void writeOwned(byte[] b) throws IOException {
        if (!readerClosed && b.length > 0) {
            put(b);
        }
    }

    /** True once the reader closed its side: the writer may stop producing. */
    boolean abandoned() {
        return readerClosed;
    }

    /** The stream ended normally (no digest to wait for). */
    void end() throws IOException {
        put(END);
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

    /** The writer failed: the reader gets the error, the commit gate refuses. */
    void fail(Throwable why) {
        failure = why;
        chunks.clear(); // what is queued is worthless now; make room so the reader sees the end at once
        try {
            put(END);
        } catch (IOException e) {
            // interrupted: the reader is closed or will be
        }
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
        return new Input();
    }

    /** Reads the chunks in order; at the end, throws the writer's failure if there was one. */
    private final class Input extends InputStream {
        private byte[] current = new byte[0];
        private int pos;

        /** Makes {@code current[pos]} the next byte; false at the end of a stream that did not fail. */
        private boolean fill() throws IOException {
            while (pos >= current.length) {
                if (current == END) {
                    return false;
                }
                current = take();
                pos = 0;
                if (current == END) {
                    throwFailure();
                    return false;
                }
            }
            return true;
        }

        private byte[] take() throws IOException {
            try {
                return chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while unpacking");
            }
        }

        private void throwFailure() throws IOException {
            if (failure instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            if (failure != null) {
                throw new IOException(String.valueOf(failure.getMessage()), failure);
            }
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
    }
}
