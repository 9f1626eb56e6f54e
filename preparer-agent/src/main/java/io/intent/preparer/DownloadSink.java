package io.intent.preparer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.Flow;

/**
 * Where a download's bytes go, from an HTTP body (as its subscriber) or a {@code file://} artifact: the cache's
 * temp file, the sha256, and the unpacker's pipe if there is one; bounded by the size limit.
 */
final class DownloadSink implements Flow.Subscriber<List<ByteBuffer>> {
    final String url;
    final FileChannel out;
    final long limit;
    final Fetcher.Progress progress;
    final BytePipe tap;
    final MessageDigest digest = Sha256.digest();
    volatile long done;
    volatile long total = -1;
    volatile long lastProgress = System.nanoTime();
    volatile PrepareException failure;
    volatile boolean started;
    private volatile Flow.Subscription subscription;

    DownloadSink(String url, FileChannel out, long limit, Fetcher.Progress progress, BytePipe tap) {
        this.tap = tap;
        this.url = url;
        this.out = out;
        this.limit = limit;
        this.progress = progress;
    }

    void total(long t) {
        total = t;
        progress.update(done, t);
    }

    void accept(ByteBuffer buf) throws IOException, PrepareException {
        long n = buf.remaining();
        if (done + n > limit) {
            throw new PrepareException(url + " is larger than the limit of " + limit + " bytes");
        }
        digest.update(buf.duplicate());
        if (tap != null) {
            tap.write(buf);
            lastProgress = System.nanoTime(); // time spent waiting for the unpacker is not a stall
        }
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        done += n;
        lastProgress = System.nanoTime();
        progress.update(done, total);
    }

    void cancel() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        lastProgress = System.nanoTime();
        started = true;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        try {
            for (ByteBuffer b : item) {
                accept(b);
            }
            subscription.request(1);
        } catch (PrepareException e) {
            failure = e;
            subscription.cancel();
        } catch (IOException e) {
            failure = new PrepareException("writing the download of " + url + " failed: " + e.getMessage(), e);
            subscription.cancel();
        }
    }

    @Override
    public void onError(Throwable t) {
        // surfaces through the response future
    }

    @Override
    public void onComplete() {
    }
}
