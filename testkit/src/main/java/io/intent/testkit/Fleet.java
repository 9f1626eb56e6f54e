package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A whole intent system on this machine, driven the way an operator drives one: a real etcd, leader JVMs and
 * one {@code intent-node} JVM per simulated host (loopback addresses 127.0.0.(11+i), the {@code file} iptables
 * backend, real runit), with intent written and read by {@code etcdctl}. The node and leader classes are found
 * on the caller's classpath by name, so this fixture needs no compile-time dependency on them.
 *
 * <p>Apps keep running after {@link #close()} stops the JVMs (runit supervises them, not the agents): the
 * caller stops them with setlive's own shutdown on each {@link #root(int)}.
 */
public final class Fleet implements AutoCloseable {
    /** How fast things happen: liveness TTL, host grace and the leader's lease, in seconds. */
    public record Timing(int livenessTtl, int hostGrace, int leaderTtl) {
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    private final Path work;
    private final int hosts;
    private final Timing timing;
    private final EtcdCluster etcd;
    private final List<JvmProcess> nodes = new ArrayList<>();
    private final List<JvmProcess> leaders = new ArrayList<>();
    private final Path artifact;
    private final String sha256;
    private final java.util.function.IntFunction<List<String>> nodeArgs;

    private Fleet(Path work, int hosts, Timing timing, List<String> leaderArgs,
                  java.util.function.IntFunction<List<String>> nodeArgs) {
        Prerequisites.require("runsvdir", "runit");
        Prerequisites.require("busybox", "busybox-static");
        Prerequisites.require("etcdctl", "etcd-client");
        this.work = work;
        this.hosts = hosts;
        this.timing = timing;
        this.nodeArgs = nodeArgs;
        this.etcd = EtcdCluster.single();
        this.artifact = DemoApp.tarball(work.resolve("repo/demo-web.tar.gz"));
        this.sha256 = DemoApp.sha256(artifact);
        List<String> args = new ArrayList<>(List.of("--name", "leader-a", "--etcd", endpoints(), "--lease-ttl",
                Integer.toString(timing.leaderTtl()), "--host-grace", Integer.toString(timing.hostGrace()),
                "--http-port", "-1"));
        args.addAll(leaderArgs);
        leaders.add(JvmProcess.start(List.of(), "io.intent.leader.LeaderMain", args, Map.of(),
                work.resolve("logs/leader-a.log")));
        for (int i = 0; i < hosts; i++) {
            nodes.add(startNode(i));
        }
    }

    /** Starts etcd, one leader (with {@code leaderArgs} added) and {@code hosts} nodes under {@code work}. */
    public static Fleet start(Path work, int hosts, Timing timing, List<String> leaderArgs) {
        return new Fleet(work, hosts, timing, leaderArgs, i -> List.of());
    }

    /** Like {@link #start(Path, int, Timing, List)}, node {@code i} getting {@code nodeArgs.apply(i)} added. */
    public static Fleet start(Path work, int hosts, Timing timing, List<String> leaderArgs,
                              java.util.function.IntFunction<List<String>> nodeArgs) {
        return new Fleet(work, hosts, timing, leaderArgs, nodeArgs);
    }

    public String host(int i) {
        return "h" + (i + 1);
    }

    public String address(int i) {
        return "127.0.0." + (11 + i);
    }

    public Path root(int i) {
        return work.resolve("hosts/" + host(i));
    }

    public int size() {
        return hosts;
    }

    public JvmProcess node(int i) {
        return nodes.get(i);
    }

    public String endpoints() {
        return String.join(",", etcd.endpoints());
    }

    private JvmProcess startNode(int i) {
        List<String> args = new ArrayList<>(List.of("--host", host(i), "--address",
                address(i), "--root", root(i).toString(), "--etcd", endpoints(), "--backend", "file", "--resync", "5",
                "--artifact-file-roots", work.resolve("repo").toString(),
                "--liveness-ttl", Integer.toString(timing.livenessTtl()), "--http-port", "-1", "--stop-timeout", "3"));
        List<String> extra = nodeArgs.apply(i);
        if (extra.contains("--http-port")) {
            // the caller's port instead of none
            int at = args.indexOf("--http-port");
            args.remove(at);
            args.remove(at);
        }
        args.addAll(extra);
        return JvmProcess.start(List.of(), "io.intent.node.NodeMain", args,
                Map.of(), work.resolve("logs/" + host(i) + "-" + System.nanoTime() + ".log"));
    }

    /** The repository dir the hosts may read {@code file://} artifacts from. */
    public Path repo() {
        return work.resolve("repo");
    }

    /** Writes the demo app as {@code app} with {@code etcdctl put}: one version, health-checked, on {@code port}. */
    public void deploy(String app, int scale, int port) {
        String json = "{\"versions\":{\"1.0\":{\"artifact\":\"" + artifact.toUri() + "\",\"sha256\":\"" + sha256
                + "\"}},\"active\":\"1.0\",\"run\":{\"command\":[\"bin/server\"]},\"ports\":[{\"name\":\"http\","
                + "\"port\":" + port + "}],\"health\":{\"http\":\"/healthz\",\"port\":\"http\"},\"scale\":" + scale
                + ",\"resources\":{\"cpu\":0.1,\"memoryMb\":32}}";
        etcdctl("put", "/intent/apps/" + app, json);
    }

    /** The hosts that have an assignment of {@code app}, read with {@code etcdctl}. */
    public Set<String> assigned(String app) {
        Set<String> out = new TreeSet<>();
        for (String key : etcdctl("get", "--prefix", "--keys-only", "/intent/assign/").split("\n")) {
            String[] p = key.trim().split("/");
            if (p.length == 5 && p[4].equals(app)) {
                out.add(p[3]);
            }
        }
        return out;
    }

    /** The pid runit reports for {@code app} on host {@code i}, if it runs there. */
    public Optional<Long> pid(int i, String app) {
        Path pid = root(i).resolve("services/" + app + "/supervise/pid");
        try {
            String s = Files.isRegularFile(pid) ? Files.readString(pid).trim() : "";
            return s.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(s));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** True when the app on host {@code i} answers {@code GET /} on {@code port}. */
    public boolean answers(int i, int port) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + address(i) + ":" + port
                    + "/")).timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code etcdctl} against this fleet's etcd and returns its output; fails on a non-zero exit. */
    public String etcdctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", endpoints()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        leaders.forEach(JvmProcess::close);
        nodes.forEach(JvmProcess::close);
        etcd.close();
    }
}
