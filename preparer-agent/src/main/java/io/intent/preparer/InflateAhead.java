package io.intent.preparer;

import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Decompresses a gzip stream on its own thread, a few chunks ahead of the reader, so inflating and writing
 * files use two cores, as {@code tar -xzf} does with its gzip child process.
 */
final class InflateAhead {
    private static final int CHUNK = 1 << 16;

    private InflateAhead() {
    }

    /** The inflated stream; closing it stops the inflating thread. */
    static InputStream of(InputStream compressed) {
        BytePipe pipe = new BytePipe();
        Thread t = new Thread(() -> {
            try (InputStream gz = new GZIPInputStream(compressed, CHUNK)) {
                while (!pipe.abandoned()) {
                    byte[] b = new byte[CHUNK];
                    int n = gz.readNBytes(b, 0, CHUNK);
                    pipe.writeOwned(n == CHUNK ? b : Arrays.copyOf(b, n));
                    if (n < CHUNK) {
                        break;
                    }
                }
                pipe.end();
            } catch (Throwable e) {
                // anything, even an Error: the reader must learn the stream ended, or it waits forever
                pipe.fail(e);
            }
        }, "preparer-inflate");
        t.setDaemon(true);
        t.start();
        return pipe.input();
    }
}
