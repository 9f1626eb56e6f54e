package io.intent.demo;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The demo's one etcd member, from the Debian binary, with its data in the demo's own folder. */
final class LocalEtcd {
    private LocalEtcd() {
    }

    /** A free loopback port, preferring {@code wanted} so the printed etcdctl lines stay the same. */
    static int port(int wanted) throws IOException {
        for (int p : new int[] {wanted, 0}) {
            try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException busy) {
                // try the next
            }
        }
        throw new IOException("no free port");
    }

    static Process start(Path dataDir, int clientPort, int peerPort, Path log) throws IOException {
        Files.createDirectories(dataDir);
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> cmd = List.of("etcd", "--name", "demo", "--data-dir", dataDir.toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "demo=" + peer, "--logger", "zap", "--log-level", "warn");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("etcd exited with " + p.exitValue() + "; see " + log);
            }
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create(client + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("\"true\"")) {
                    return p;
                }
            } catch (IOException e) {
                // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        p.destroyForcibly();
        throw new IOException("etcd did not become healthy within 30 s; see " + log);
    }
}
