package io.intent.node;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** A client asking an app for its page every 20 ms in the background, keeping every request that failed. */
final class HttpPoller implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final Thread thread;

    HttpPoller(int port, String expected) {
        long t0 = System.nanoTime();
        thread = new Thread(() -> {
            while (running.get()) {
                String body = NodeFixture.body(port);
                requests.incrementAndGet();
                if (!expected.equals(body)) {
                    failures.add(String.format("at %.2f s: %s", (System.nanoTime() - t0) / 1e9, body));
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "http-poller-" + port);
        thread.start();
    }

    int requests() {
        return requests.get();
    }

    List<String> failures() {
        return failures;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
    }
}
