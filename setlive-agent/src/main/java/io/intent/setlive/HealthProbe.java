package io.intent.setlive;

import io.intent.store.model.AppIntent;
import io.intent.store.model.HealthSpec;
import io.intent.store.model.PortSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Decides whether an instance answers: an HTTP GET of the intent's {@code health.http} path answering 2xx, or
 * else a TCP connect, on the health port (default: the first port) at the host's address. An app with no
 * ports counts as healthy once it runs.
 */
public final class HealthProbe {
    private static final Duration POLL = Duration.ofMillis(2);
    private static final int IO_TIMEOUT_MS = 1000;

    private final String address;
    private final Integer port;
    private final String path;

    private HealthProbe(String address, Integer port, String path) {
        this.address = address;
        this.port = port;
        this.path = path;
    }

    /** The probe for an intent at a host address. */
    public static HealthProbe of(AppIntent intent, String address) {
        HealthSpec h = intent.health();
        Integer port = null;
        if (h != null && h.port() != null) {
            port = intent.ports().stream().filter(p -> h.port().equals(p.name())).map(PortSpec::port)
                    .findFirst().orElse(null);
        } else if (!intent.ports().isEmpty()) {
            port = intent.ports().get(0).port();
        }
        return new HealthProbe(address, port, h == null ? null : h.http());
    }

    /** What is checked, for status messages. */
    public String describe() {
        if (port == null) {
            return "no port to check";
        }
        return path == null ? "tcp " + address + ":" + port : "http://" + address + ":" + port + path;
    }

    /** One check, now. */
    public boolean healthy() {
        if (port == null) {
            return true;
        }
        if (path == null) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(address, port), IO_TIMEOUT_MS);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        int status = httpStatus(address, port, path);
        return status >= 200 && status < 300;
    }

    /** Checks until healthy or {@code timeout}; returns whether it got healthy. */
    public boolean await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (healthy()) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** The status code of an HTTP/1.0 GET, or -1 when nothing answers. */
    public static int httpStatus(String address, int port, String path) {
        String line = get(address, port, path, false);
        if (line == null || !line.startsWith("HTTP/")) {
            return -1;
        }
        String[] parts = line.split(" ", 3);
        try {
            return parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The body of an HTTP/1.0 GET answering 200, or null. */
    public static String httpBody(String address, int port, String path) {
        return get(address, port, path, true);
    }

    private static String get(String address, int port, String path, boolean body) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), IO_TIMEOUT_MS);
            s.setSoTimeout(IO_TIMEOUT_MS);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.0\r\nHost: " + address + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] chunk = new byte[4096];
            int n;
            while ((n = in.read(chunk)) > 0 && buf.size() < 65536) {
                buf.write(chunk, 0, n);
                if (!body && buf.toString(StandardCharsets.ISO_8859_1).contains("\r\n")) {
                    break;
                }
            }
            String text = buf.toString(StandardCharsets.ISO_8859_1);
            int eol = text.indexOf("\r\n");
            String status = eol < 0 ? text : text.substring(0, eol);
            if (!body) {
                return status;
            }
            int sep = text.indexOf("\r\n\r\n");
            return status.contains(" 200 ") && sep >= 0 ? text.substring(sep + 4) : null;
        } catch (IOException e) {
            return null;
        }
    }
}
