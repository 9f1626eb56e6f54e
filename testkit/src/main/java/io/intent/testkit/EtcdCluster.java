package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real etcd, 1 or 3 members, started from the Debian {@code etcd} binary on free loopback ports with temp
 * data dirs, optionally TLS-only on both client and peer URLs with certificates from a {@link Pki} made at test
 * time. Members can be SIGKILLed, paused, and restarted with their data; everything is removed on
 * {@link #close()} (and on JVM exit, if a test forgot).
 */
// Long (about 360 lines): plain and TLS clusters share member start, kill, pause, restart and the leader lookup;
// Member is the per-process part.
public final class EtcdCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path etcd;
    private final Path base;
    private final List<Member> members = new ArrayList<>();
    private final String token;
    private final Pki pki;

    /** One member: its name, ports, data dir and the running process, if any. */
    public static final class Member {
        final String name;
        final int clientPort;
        final int peerPort;
        final Path dataDir;
        final Path logFile;
        final String host;
        final String scheme;
        Pki.Cert cert;
        Process process;

        Member(String name, String host, String scheme, int clientPort, int peerPort, Path dataDir, Path logFile) {
            this.scheme = scheme;
            this.name = name;
            this.host = host;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
            this.dataDir = dataDir;
            this.logFile = logFile;
        }

        public String clientUrl() {
            return scheme + "://" + host + ":" + clientPort;
        }

        String peerUrl() {
            return scheme + "://" + host + ":" + peerPort;
        }

        public String name() {
            return name;
        }

        public int clientPort() {
            return clientPort;
        }

        public boolean running() {
            return process != null && process.isAlive();
        }

        public long pid() {
            return process.pid();
        }
    }

    private EtcdCluster(Path etcd, Path base, String token, Pki pki) {
        this.etcd = etcd;
        this.base = base;
        this.token = token;
        this.pki = pki;
    }

    /** Starts a single member. */
    public static EtcdCluster single() {
        return start(1);
    }

    /** Starts {@code size} members on loopback in parallel and waits until each answers /health. */
    public static EtcdCluster start(int size) {
        return start(size, "127.0.0.1");
    }

    /**
     * Starts {@code size} members listening on {@code host} (e.g. a test bridge's address that network
     * namespaces can reach) and waits until each answers /health.
     */
    public static EtcdCluster start(int size, String host) {
        return start(size, host, null);
    }

    /**
     * Starts {@code size} TLS-only members on {@code host}: each serves clients and peers over HTTPS with its own
     * certificate (CN = member name) from {@code pki}, and a peer must present a certificate of that CA. Clients
     * verify the members with {@code pki.ca()}; etcd asks them for no certificate, so they authenticate with a
     * password (etcd treats a trusted client CA as "client certificates required", which is not this mode).
     */
    public static EtcdCluster startTls(int size, String host, Pki pki) {
        return start(size, host, pki);
    }

    private static EtcdCluster start(int size, String host, Pki pki) {
        Path bin = Prerequisites.require("etcd", "etcd-server");
        try {
            Path base = Files.createTempDirectory("intent-etcd-");
            EtcdCluster c = new EtcdCluster(bin, base, base.getFileName().toString(), pki);
            for (int i = 0; i < size; i++) {
                String name = "m" + i;
                Member m = new Member(name, host, pki == null ? "http" : "https", Ports.free(), Ports.free(),
                        base.resolve(name), base.resolve(name + ".log"));
                if (pki != null) {
                    m.cert = pki.issue(base.getFileName() + "-" + name, host);
                }
                c.members.add(m);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(c::close));
            for (int i = 0; i < size; i++) {
                c.launch(i, "new");
            }
            for (int i = 0; i < size; i++) {
                c.awaitHealthy(i);
            }
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void launch(int i, String state) throws IOException {
        Member m = members.get(i);
        String initial = members.stream().map(x -> x.name + "=" + x.peerUrl()).collect(Collectors.joining(","));
        List<String> cmd = new ArrayList<>(List.of(etcd.toString(),
                "--name", m.name,
                "--data-dir", m.dataDir.toString(),
                "--listen-client-urls", m.clientUrl(),
                "--advertise-client-urls", m.clientUrl(),
                "--listen-peer-urls", m.peerUrl(),
                "--initial-advertise-peer-urls", m.peerUrl(),
                "--initial-cluster", initial,
                "--initial-cluster-state", state,
                "--initial-cluster-token", token,
                "--heartbeat-interval", "100",
                "--election-timeout", "1000",
                "--logger", "zap",
                "--log-level", "warn"));
        if (pki != null) {
            Pki.Cert c = m.cert;
            cmd.addAll(List.of("--cert-file", c.cert().toString(), "--key-file", c.key().toString(),
                    "--peer-cert-file", c.cert().toString(), "--peer-key-file", c.key().toString(),
                    "--peer-trusted-ca-file", pki.ca().toString(), "--peer-client-cert-auth"));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(m.logFile.toFile()));
        m.process = pb.start();
    }

    /** An HTTP client for the members' own endpoints (trusting the test CA in TLS mode). */
    private HttpClient http() {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1));
        if (pki != null) {
            b.sslContext(pki.sslContext());
        }
        return b.build();
    }

    /** The CA certificate clients must trust, in TLS mode. */
    public java.util.Optional<Path> ca() {
        return pki == null ? java.util.Optional.empty() : java.util.Optional.of(pki.ca());
    }

    private void awaitHealthy(int i) {
        Member m = members.get(i);
        HttpClient http = http();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!m.process.isAlive()) {
                throw new IllegalStateException("etcd member " + m.name + " exited with " + m.process.exitValue()
                        + "; its log:\n" + tail(m.logFile));
            }
            try {
                var resp = http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + "/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (resp.statusCode() == 200 && resp.body().contains("\"true\"")) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(50);
        }
        throw new IllegalStateException("etcd member " + m.name + " not healthy within " + START_TIMEOUT
                + "; its log:\n" + tail(m.logFile));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int size() {
        return members.size();
    }

    public Member member(int i) {
        return members.get(i);
    }

    /** Client URLs of all members, for a client that should survive member loss. */
    public List<String> endpoints() {
        return members.stream().map(Member::clientUrl).toList();
    }

    public String endpoint(int i) {
        return members.get(i).clientUrl();
    }

    /** SIGKILLs member {@code i} and waits until it is gone. */
    public void kill(int i) {
        Member m = members.get(i);
        if (m.process != null) {
            m.process.destroyForcibly();
            try {
                m.process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Starts a stopped member again with its existing data, and waits until it is healthy. */
    public void restart(int i) {
        Member m = members.get(i);
        if (m.running()) {
            kill(i);
        }
        try {
            launch(i, "existing");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (members.size() == 1 || quorumWithout(i)) {
            awaitHealthy(i);
        }
    }

    private boolean quorumWithout(int i) {
        long up = members.stream().filter(Member::running).count();
        return up > members.size() / 2;
    }

    /** SIGSTOPs member {@code i} (a hung process, not a dead one). */
    public void pause(int i) {
        signal(members.get(i).pid(), "STOP");
    }

    public void resume(int i) {
        signal(members.get(i).pid(), "CONT");
    }

    static void signal(long pid, String sig) {
        try {
            Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("kill -" + sig + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The index of the member that currently leads, asked over etcd's JSON gateway; -1 when none does. */
    public int leaderIndex() {
        HttpClient http = http();
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            if (!m.running()) {
                continue;
            }
            try {
                var resp = http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + "/v3/maintenance/status"))
                        .timeout(Duration.ofSeconds(2))
                        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                String body = resp.body();
                String leader = field(body, "leader");
                String self = field(body.substring(body.indexOf("\"header\"")), "member_id");
                if (leader != null && leader.equals(self)) {
                    return i;
                }
            } catch (IOException | RuntimeException e) {
                // member not answering; try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return -1;
    }

    private static String field(String json, String name) {
        int k = json.indexOf("\"" + name + "\"");
        if (k < 0) {
            return null;
        }
        int start = json.indexOf('"', json.indexOf(':', k) + 1) + 1;
        return json.substring(start, json.indexOf('"', start));
    }

    /** Stops every member and deletes the data dirs. */
    @Override
    public synchronized void close() {
        for (Member m : members) {
            if (m.process != null && m.process.isAlive()) {
                m.process.destroyForcibly();
                try {
                    m.process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (Files.exists(base)) {
            try (Stream<Path> walk = Files.walk(base)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // best effort
            }
        }
    }
}
