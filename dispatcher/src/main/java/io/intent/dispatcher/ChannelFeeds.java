package io.intent.dispatcher;

import io.intent.store.codec.FieldError;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.TrustedCa;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelManifest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The HTTPS feeds of fed channels, as {@link ChannelFollower} polls them: each channel's last answer (its URL, ETag
 * and manifest, for If-None-Match) and why its last poll failed. Confined to the follower's thread.
 */
final class ChannelFeeds {
    private static final Duration FEED_TIMEOUT = Duration.ofSeconds(5);

    private record FeedState(String feed, String etag, ChannelManifest manifest) {
    }

    /** Per fed channel: the last feed answer applied. */
    private final Map<String, FeedState> feeds = new HashMap<>();
    /** Per fed channel: why its last poll failed. */
    private final Map<String, String> errors = new HashMap<>();

    /** Forgets a channel that has no feed (any more). */
    void forget(String name) {
        feeds.remove(name);
        errors.remove(name);
    }

    /** Why the last poll of channel {@code name} failed, or null. */
    String error(String name) {
        return errors.get(name);
    }

    /** The ETag of channel {@code name}'s last feed answer, or null. */
    String etag(String name) {
        FeedState fs = feeds.get(name);
        return fs == null ? null : fs.etag();
    }

    /** Polls channel {@code name}'s feed: the manifest it serves now, or null when the poll failed ({@link #error}). */
    ChannelManifest poll(String name, Channel c) {
        FeedState last = feeds.get(name);
        if (last != null && !last.feed().equals(c.feed())) {
            last = null;
            feeds.remove(name);
        }
        FeedState now;
        try {
            now = answer(c, last, client(c).send(request(c, last), HttpResponse.BodyHandlers.ofByteArray()));
        } catch (FeedException bad) {
            errors.put(name, bad.getMessage());
            return null;
        } catch (IOException | RuntimeException | GeneralSecurityException ex) {
            errors.put(name, "feed " + c.feed() + " could not be read: " + describe(ex));
            return null;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return null;
        }
        errors.remove(name);
        feeds.put(name, now);
        return now.manifest();
    }

    private static HttpRequest request(Channel c, FeedState last) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(c.feed())).timeout(FEED_TIMEOUT)
                .header("Accept", "application/json");
        if (last != null && last.etag() != null) {
            req.header("If-None-Match", last.etag());
        }
        return req.build();
    }

    /** What a feed's answer means: the last manifest again (304), a new valid one, or a {@link FeedException}. */
    private static FeedState answer(Channel c, FeedState last, HttpResponse<byte[]> resp) throws FeedException {
        if (resp.statusCode() == 304 && last != null) {
            return last;
        }
        if (resp.statusCode() != 200) {
            throw new FeedException("feed " + c.feed() + " answered HTTP " + resp.statusCode());
        }
        ChannelManifest manifest;
        try {
            manifest = Json.read(resp.body(), ChannelManifest.class);
        } catch (InvalidValueException bad) {
            throw new FeedException("feed " + c.feed() + " did not serve a channel manifest: " + bad.getMessage());
        }
        List<FieldError> errs = Validation.check(manifest);
        if (!errs.isEmpty()) {
            throw new FeedException("feed " + c.feed() + " serves an invalid manifest: " + errs.stream()
                    .map(FieldError::toString).collect(Collectors.joining("; ")));
        }
        return new FeedState(c.feed(), resp.headers().firstValue("ETag").orElse(null), manifest);
    }

    private static String describe(Exception ex) {
        String m = ex.getMessage();
        Throwable cause = ex.getCause();
        while (m == null && cause != null) {
            m = cause.getMessage();
            cause = cause.getCause();
        }
        return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** A client trusting the channel's {@code ca} only, or the JDK's CAs without one. Never follows redirects. */
    private static HttpClient client(Channel c) throws IOException, GeneralSecurityException {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(FEED_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        if (c.ca() != null) {
            b.sslContext(TrustedCa.sslContext(Path.of(c.ca())));
        }
        return b.build();
    }

    /** A feed answer that is not a usable manifest; its message is the channel's status. */
    private static final class FeedException extends Exception {
        FeedException(String message) {
            super(message);
        }
    }
}
