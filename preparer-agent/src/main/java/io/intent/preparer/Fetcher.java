package io.intent.preparer;

import io.intent.store.etcd.TrustedCa;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;

/**
 * Fetches an artifact from {@code file://}, {@code http://} or {@code https://} into the {@link ArtifactCache},
 * hashing while it streams. The bytes that are verified are the bytes that get unpacked: nothing is read
 * from the source twice. A download that stalls, breaks, is truncated, is too large or does not match its
 * sha256 fails with a reason, and its partial file is deleted.
 */
final class Fetcher {
    /** Receives download progress; {@code total} is -1 when the server did not say. */
    interface Progress {
        void update(long done, long total);
    }

    private final ArtifactCache cache;
    private final PreparerSettings settings;
    private final HttpClient http;
    private final FileArtifacts files;
    private final java.util.concurrent.ConcurrentHashMap<String, Object> locks =
            new java.util.concurrent.ConcurrentHashMap<>();

    Fetcher(ArtifactCache cache, PreparerSettings settings) throws IOException {
        this.cache = cache;
        this.settings = settings;
        this.files = new FileArtifacts(settings.artifactFileRoots(), settings.downloadTimeout());
        HttpClient.Builder b = HttpClient.newBuilder();
        if (settings.artifactCa() != null) {
            b.sslContext(trusting(settings.artifactCa()));
        }
        this.http = b
                // HTTP/1.1: the JDK would otherwise try an h2c upgrade on plain http, which servers get wrong
                // (seen against Vert.x: body bytes parsed as HTTP/2 frames)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "preparer-http");
                    t.setDaemon(true);
                    return t;
                }))
                .build();
    }

    /** A TLS context that trusts exactly the CA certificates in a PEM file. */
    static SSLContext trusting(Path pem) throws IOException {
        try {
            return TrustedCa.sslContext(pem);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use " + pem + " as artifact CA: " + e.getMessage(), e);
        }
    }

    /**
     * The verified artifact in the cache: reused when present, else fetched from {@code url}. Concurrent
     * fetches of one digest (two apps, one artifact) download it once: the second waits and reuses it.
     */
    Path fetch(String url, String sha256, Progress progress) throws IOException, PrepareException {
        return fetch(url, sha256, progress, null);
    }

    /**
     * Like {@link #fetch(String, String, Progress)}, also passing every byte to {@code tap} as it arrives (from
     * the cache file when the artifact was cached), so it can be unpacked while it downloads. The caller
     * tells the tap whether the digest matched once this returns or throws.
     */
    Path fetch(String url, String sha256, Progress progress, BytePipe tap) throws IOException, PrepareException {
        Object lock = locks.computeIfAbsent(sha256, k -> new Object());
        synchronized (lock) {
            try {
                return fetchLocked(url, sha256, progress, tap);
            } finally {
                locks.remove(sha256, lock);
            }
        }
    }

    private Path fetchLocked(String url, String sha256, Progress progress, BytePipe tap)
            throws IOException, PrepareException {
        var cached = cache.lookup(sha256);
        if (cached.isPresent()) {
            long size = Files.size(cached.get());
            if (tap != null) {
                try (FileChannel in = FileChannel.open(cached.get(), StandardOpenOption.READ)) {
                    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
                    while (in.read(buf) >= 0) {
                        buf.flip();
                        tap.write(buf);
                        buf.clear();
                    }
                }
            }
            progress.update(size, size);
            return cached.get();
        }
        URI uri = parse(url);
        Path temp = cache.newTemp(sha256);
        boolean ok = false;
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            DownloadSink sink = new DownloadSink(url, out, settings.maxArchiveBytes(), progress, tap);
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            if (scheme.equals("file")) {
                files.copy(uri, sink);
            } else {
                download(uri, sink);
            }
            String actual = Sha256.hex(sink.digest);
            if (!actual.equals(sha256)) {
                throw new PrepareException("sha256 mismatch for " + url + ": expected " + sha256 + ", got " + actual
                        + " (" + sink.done + " bytes); the download was deleted");
            }
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(temp);
            }
        }
        return cache.commit(temp, sha256);
    }

    static URI parse(String url) throws PrepareException {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!List.of("file", "http", "https").contains(scheme)) {
                throw new PrepareException("artifact " + url + ": scheme must be file, http or https");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new PrepareException("artifact " + url + " is not a URL: " + e.getReason());
        }
    }

    private void download(URI start, DownloadSink sink) throws IOException, PrepareException {
        URI uri = start;
        for (int hop = 0; ; hop++) {
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(settings.connectTimeout()).GET().build();
            Redirect redirect = new Redirect();
            CompletableFuture<HttpResponse<Void>> f = http.sendAsync(req, info -> {
                int code = info.statusCode();
                if (code == 200) {
                    long len = info.headers().firstValueAsLong("content-length").orElse(-1);
                    if (len > settings.maxArchiveBytes()) {
                        redirect.tooBig = len;
                        return HttpResponse.BodySubscribers.replacing(null);
                    }
                    sink.total(len);
                    return HttpResponse.BodySubscribers.fromSubscriber(sink);
                }
                redirect.code = code;
                redirect.location = info.headers().firstValue("location").orElse(null);
                return HttpResponse.BodySubscribers.replacing(null);
            });
            await(uri, f, sink);
            if (redirect.tooBig > 0) {
                throw new PrepareException(uri + " is " + redirect.tooBig + " bytes, more than the limit of "
                        + settings.maxArchiveBytes());
            }
            if (redirect.code == 0) {
                return;
            }
            if (redirect.code < 300 || redirect.code > 399 || redirect.code == 304) {
                throw new PrepareException("HTTP " + redirect.code + " from " + uri);
            }
            if (redirect.location == null) {
                throw new PrepareException("HTTP " + redirect.code + " from " + uri + " without a Location");
            }
            if (hop + 1 > settings.maxRedirects()) {
                throw new PrepareException("more than " + settings.maxRedirects() + " redirects fetching " + start);
            }
            URI next = uri.resolve(redirect.location);
            String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new PrepareException(uri + " redirects to unsupported " + next);
            }
            if (uri.getScheme().equalsIgnoreCase("https") && scheme.equals("http")) {
                throw new PrepareException(uri + " redirects from https to http (" + next + "); refused");
            }
            uri = next;
        }
    }

    /** Waits for the response, failing it when no byte arrived for the idle timeout or it ran too long. */
    private void await(URI uri, CompletableFuture<HttpResponse<Void>> f, DownloadSink sink)
            throws IOException, PrepareException {
        long deadline = System.nanoTime() + settings.downloadTimeout().toNanos();
        long idle = settings.idleTimeout().toNanos();
        long tick = Math.max(10, Math.min(1000, settings.idleTimeout().toMillis() / 4));
        while (true) {
            try {
                f.get(tick, TimeUnit.MILLISECONDS);
                if (sink.failure != null) {
                    throw sink.failure;
                }
                return;
            } catch (TimeoutException e) {
                if (sink.failure != null) {
                    f.cancel(true);
                    throw sink.failure;
                }
                long now = System.nanoTime();
                if (sink.started && now - sink.lastProgress > idle) {
                    sink.cancel();
                    f.cancel(true);
                    throw new PrepareException("download of " + uri + " stalled: no data for "
                            + settings.idleTimeout().toSeconds() + " s after " + sink.done + " bytes");
                }
                if (now > deadline) {
                    sink.cancel();
                    f.cancel(true);
                    throw new PrepareException("download of " + uri + " took longer than "
                            + settings.downloadTimeout());
                }
            } catch (InterruptedException e) {
                sink.cancel();
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw new PrepareException("download of " + uri + " interrupted");
            } catch (ExecutionException e) {
                if (sink.failure != null) {
                    throw sink.failure;
                }
                Throwable c = e.getCause();
                if (c instanceof HttpTimeoutException) {
                    throw new PrepareException("no response from " + uri + " within " + settings.connectTimeout());
                }
                String why = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
                throw new PrepareException("download of " + uri + " broke after " + sink.done + " of "
                        + (sink.total < 0 ? "?" : sink.total) + " bytes: " + why, c);
            }
        }
    }

    /** What a non-200 response said. */
    private static final class Redirect {
        volatile int code;
        volatile String location;
        volatile long tooBig;
    }
}
