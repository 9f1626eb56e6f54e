package io.intent.preparer;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * Decompresses a gzip stream on its own thread, a few chunks ahead of the reader, so inflating and writing
 * files use two cores, as {@code tar -xzf} does with its gzip child process.
 */
final class InflateAhead extends InputStream {
    private static final byte[] END = new byte[0];
    private static final int CHUNK = 1 << 16;

    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(32);
    private final Thread thread;
    private volatile Throwable failure;
    private volatile boolean closed;
    private byte[] current = new byte[0];
    private int pos;

    InflateAhead(InputStream compressed) {
        thread = new Thread(() -> inflate(compressed), "preparer-inflate");
        thread.setDaemon(true);
        thread.start();
    }

    private void inflate(InputStream compressed) {
        try (InputStream gz = new GZIPInputStream(compressed, CHUNK)) {
            while (!closed) {
                byte[] b = new byte[CHUNK];
                int n = gz.readNBytes(b, 0, CHUNK);
                if (n > 0) {
                    offer(n == CHUNK ? b : Arrays.copyOf(b, n));
                }
                if (n < CHUNK) {
                    break;
                }
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            offer(END);
        }
    }

    private void offer(byte[] b) {
        try {
            while (!closed && !chunks.offer(b, 100, TimeUnit.MILLISECONDS)) {
                // the reader is busy writing files; wait, unless it gave up
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

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
                Throwable t = failure;
                if (t instanceof IOException io) {
                    throw io;
                }
                if (t != null) {
                    throw new IOException(t.toString(), t);
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
    public void close() throws IOException {
        closed = true;
        chunks.clear();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
