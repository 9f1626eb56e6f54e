package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The API's Server-Sent Events ({@code /v1/events}) as a queue: a daemon thread parses the stream
 * ({@code event:}, {@code data:}, blank line; {@code :} comments skipped) and {@link #next} waits for the next one.
 */
final class EventFeed implements AutoCloseable {
    /** One change: {@code put} or {@code delete}, and the event's data ({@code revision, kind, key, value}). */
    record Event(String kind, JsonNode data) {
        String key() {
            return data.path("key").asText();
        }
    }

    private static final Event END = new Event("end", null);

    private final InputStream in;
    private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private volatile boolean ended;
    private volatile boolean closed;

    EventFeed(InputStream in) {
        this.in = in;
        Thread t = new Thread(this::read, "intentctl-events");
        t.setDaemon(true);
        t.start();
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String kind = "message";
            StringBuilder data = new StringBuilder();
            String line;
            while (!closed && (line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        try {
                            queue.add(new Event(kind, Trees.read(data.toString().getBytes(StandardCharsets.UTF_8))));
                        } catch (IOException e) {
                            // not one of ours (a proxy's message?): nothing to act on
                        }
                    }
                    kind = "message";
                    data.setLength(0);
                } else if (line.startsWith("event:")) {
                    kind = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).strip());
                }
            }
        } catch (IOException e) {
            // the connection dropped: the reader of next() sees the end and re-reads the state
        } finally {
            ended = true;
            queue.add(END);
        }
    }

    /** The next event, or null when none came within {@code wait}; throws {@link Ended} once the stream ended. */
    Event next(Duration wait) throws InterruptedException, Ended {
        Event e = queue.poll(Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS);
        if (e == END) {
            queue.add(END);
            throw new Ended();
        }
        return e;
    }

    /** Every event already queued, without waiting (coalesces a burst into one re-read). */
    int drain() {
        int n = 0;
        Event e;
        while ((e = queue.peek()) != null && e != END) {
            queue.poll();
            n++;
        }
        return n;
    }

    boolean ended() {
        return ended;
    }

    /**
     * Stops following without waiting: the reader thread closes the stream after the next line it reads (an event
     * or the API's heartbeat, every 15 s). Closing it from here would wait just as long: HttpURLConnection's chunked
     * stream is locked by the blocked read, and closing the connection closes that stream first.
     */
    @Override
    public void close() {
        closed = true;
    }

    /** The stream ended (API restarted, connection lost): re-read the state and subscribe again. */
    static final class Ended extends Exception {
        private static final long serialVersionUID = 1L;

        Ended() {
            super("event stream ended", null, false, false);
        }
    }
}
