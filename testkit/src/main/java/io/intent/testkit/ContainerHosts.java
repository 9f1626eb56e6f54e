package io.intent.testkit;

import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.api.model.Network.Ipam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * Simulated machines as real containers (Testcontainers), all from the {@link HostImage}, on a Docker network
 * of their own with fixed addresses: etcd members at {@code .2, .3, …}, hosts at {@code .10+i}. A host is a
 * container whose PID 1 sets the firewall's INPUT policy to DROP and then runs runit, which supervises the apps'
 * runsvdir and {@code intent-node} (kernel iptables backend, configured by {@code INTENT_*} variables). intent's
 * code is this JVM's classpath, mounted read-only at the same paths. This machine is the network's gateway
 * ({@code .1}): servers the test starts there (leaders, the API, an artifact server) reach and are reached by
 * every container. {@link #close()} removes every container and the network, also when a test fails.
 */
// Long (about 480 lines): one fixture owns the Docker network and every container on it (etcd members, hosts,
// their faults and their cleanup after a SIGKILLed JVM); ContainerHost and HostImage already hold the per-host
// and per-image parts.
public final class ContainerHosts implements AutoCloseable {
    /** Label on every container and network made here: the pid of the JVM that made it. */
    static final String OWNER_LABEL = "io.intent.testkit.owner-pid";
    private static final int FIRST_HOST = 10;
    private static final int FIRST_ETCD = 2;

    private final String image;
    private final Network network;
    private final String subnet;
    private final Path logs;
    private final String prefix;
    private final List<ContainerHost> members = new ArrayList<>();
    private final Map<String, ContainerHost> hosts = new LinkedHashMap<>();
    private final List<ContainerHost> others = new ArrayList<>();
    private final List<String> classpath;
    private final Pki pki;
    private boolean closed;

    /** Where a host finds the CA that signed etcd's certificates, when etcd speaks TLS. */
    public static final String HOST_CA = "/etc/intent/tls/ca.pem";

    private ContainerHosts(String image, Network network, String subnet, Path logs, Pki pki) {
        this.image = image;
        this.network = network;
        this.subnet = subnet;
        this.logs = logs;
        this.pki = pki;
        this.prefix = "intent-" + ProcessHandle.current().pid() + "-" + Long.toString(System.nanoTime() % 100000, 36);
        this.classpath = classpath();
    }

    /**
     * Builds the image if needed, creates the network (a free 10.233.N.0/24) and starts an etcd of
     * {@code etcdMembers} containers; container logs go to {@code logs/<name>.log}.
     *
     * @throws AssertionError when Docker is not reachable, saying how to start it
     */
    public static ContainerHosts start(int etcdMembers, Path logs) {
        return start(etcdMembers, logs, null);
    }

    /**
     * As {@link #start(int, Path)}, but etcd speaks TLS only, on client and peer URLs, as in production: each
     * member gets a certificate {@code pki} issues for its address ({@code etc/tls/make-certs.sh}), copied into
     * its container with {@code ca.pem}; peers verify each other's certificate ({@code --peer-client-cert-auth}).
     * {@link #etcdEndpoints()} are then {@code https} URLs, and every host gets {@code ca.pem} at
     * {@link #HOST_CA} and {@code INTENT_ETCD_CA} pointing to it.
     */
    public static ContainerHosts startTls(int etcdMembers, Path logs, Pki pki) {
        return start(etcdMembers, logs, java.util.Objects.requireNonNull(pki, "pki"));
    }

    private static ContainerHosts start(int etcdMembers, Path logs, Pki pki) {
        requireDocker();
        removeOrphans();
        String image = HostImage.ensure();
        long pid = ProcessHandle.current().pid();
        RuntimeException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            String subnet = "10.233." + (int) ((pid + attempt * 7) % 250 + 1);
            Network net = Network.builder().createNetworkCmdModifier(cmd -> cmd.withName("intent-" + pid + "-"
                    + subnet.substring(subnet.lastIndexOf('.') + 1)).withLabels(Map.of(OWNER_LABEL,
                    Long.toString(pid))).withIpam(new Ipam().withConfig(new Ipam.Config()
                    .withSubnet(subnet + ".0/24").withGateway(subnet + ".1")))).build();
            try {
                net.getId(); // created lazily: a subnet in use fails here
            } catch (RuntimeException e) {
                last = e;
                continue;
            }
            ContainerHosts c = new ContainerHosts(image, net, subnet, logs, pki);
            Runtime.getRuntime().addShutdownHook(new Thread(c::close, "container-hosts-cleanup"));
            try {
                c.startEtcd(etcdMembers);
                return c;
            } catch (RuntimeException | Error e) {
                c.close();
                throw e;
            }
        }
        throw new AssertionError("no free 10.233.N.0/24 for a Docker network", last);
    }

    /**
     * Removes the containers and networks of JVMs that died without closing theirs (SIGKILLed, say): those
     * whose owner pid no longer runs. Shutdown hooks cover every other way out.
     */
    static void removeOrphans() {
        var docker = DockerClientFactory.instance().client();
        for (var c : docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(OWNER_LABEL)).exec()) {
            if (orphaned(c.getLabels().get(OWNER_LABEL))) {
                try {
                    docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
                } catch (RuntimeException e) {
                    System.err.println("could not remove orphaned container " + c.getId() + ": " + e);
                }
            }
        }
        for (var n : docker.listNetworksCmd().exec()) {
            if (n.getLabels() != null && n.getLabels().containsKey(OWNER_LABEL)
                    && orphaned(n.getLabels().get(OWNER_LABEL))) {
                try {
                    docker.removeNetworkCmd(n.getId()).exec();
                } catch (RuntimeException e) {
                    System.err.println("could not remove orphaned network " + n.getName() + ": " + e);
                }
            }
        }
    }

    private static boolean orphaned(String pid) {
        try {
            return pid != null && ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    static void requireDocker() {
        Prerequisites.require("docker", "docker.io");
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new AssertionError("Docker is not reachable: container hosts need a running dockerd (./intent "
                    + "test starts it; or: dockerd &)");
        }
    }

    /** This machine's address on the network, where the test's own servers listen. */
    public String gateway() {
        return subnet + ".1";
    }

    /** The Docker network's name, for the docker CLI. */
    public String networkName() {
        return DockerClientFactory.instance().client().inspectNetworkCmd().withNetworkId(network.getId()).exec()
                .getName();
    }

    String networkId() {
        return network.getId();
    }

    /** The host image's tag. */
    public String image() {
        return image;
    }

    /** etcd's client URLs, one per member. */
    public List<String> etcdEndpoints() {
        return members.stream().map(m -> scheme() + "://" + m.address() + ":2379").toList();
    }

    private String scheme() {
        return pki == null ? "http" : "https";
    }

    /** A client for the members' own HTTP endpoints (health, status), trusting the test CA when TLS is on. */
    private HttpClient etcdHttp() {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1));
        return (pki == null ? b : b.sslContext(pki.sslContext())).build();
    }

    public ContainerHost etcdMember(int i) {
        return members.get(i);
    }

    public int etcdSize() {
        return members.size();
    }

    public ContainerHost host(String name) {
        ContainerHost h = hosts.get(name);
        if (h == null) {
            throw new IllegalArgumentException("no host " + name + " (hosts: " + hosts.keySet() + ")");
        }
        return h;
    }

    public List<ContainerHost> hosts() {
        return List.copyOf(hosts.values());
    }

    private GenericContainer<?> container(String name, String address) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image));
        c.withImagePullPolicy(img -> false) // built here; there is no registry to pull from
                .withNetwork(network)
                .withNetworkAliases(name)
                .withLabel(OWNER_LABEL, Long.toString(ProcessHandle.current().pid()))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(prefix + "-" + name).withHostName(name).withIpv4Address(address);
                    cmd.getHostConfig().withCapAdd(Capability.NET_ADMIN, Capability.NET_RAW);
                })
                .withLogConsumer(logTo(logs.resolve(name + ".log")));
        return c;
    }

    private void startEtcd(int size) {
        String s = scheme();
        String cluster = String.join(",", java.util.stream.IntStream.range(0, size)
                .mapToObj(i -> "m" + i + "=" + s + "://" + subnet + "." + (FIRST_ETCD + i) + ":2380").toList());
        for (int i = 0; i < size; i++) {
            String name = "m" + i;
            String ip = subnet + "." + (FIRST_ETCD + i);
            List<String> cmd = new ArrayList<>(List.of("etcd", "--name", name,
                    "--data-dir", "/var/lib/etcd-data",
                    "--listen-client-urls", s + "://0.0.0.0:2379", "--advertise-client-urls", s + "://" + ip + ":2379",
                    "--listen-peer-urls", s + "://0.0.0.0:2380", "--initial-advertise-peer-urls",
                    s + "://" + ip + ":2380", "--initial-cluster", cluster, "--initial-cluster-state", "new",
                    "--initial-cluster-token", prefix, "--heartbeat-interval", "100", "--election-timeout", "1000",
                    "--log-level", "warn", "--logger", "zap"));
            GenericContainer<?> c = container(name, ip);
            if (pki != null) {
                // one certificate for the client URL and both ends of a peer connection, as make-certs.sh makes it
                Pki.Cert cert = pki.issue("etcd-" + name, ip, name);
                c.withCopyToContainer(Transferable.of(read(pki.ca()), 0644), "/etc/etcd/tls/ca.pem")
                        .withCopyToContainer(Transferable.of(read(cert.cert()), 0644), "/etc/etcd/tls/member.pem")
                        .withCopyToContainer(Transferable.of(read(cert.key()), 0600), "/etc/etcd/tls/member-key.pem");
                cmd.addAll(List.of("--cert-file", "/etc/etcd/tls/member.pem",
                        "--key-file", "/etc/etcd/tls/member-key.pem",
                        "--peer-cert-file", "/etc/etcd/tls/member.pem",
                        "--peer-key-file", "/etc/etcd/tls/member-key.pem",
                        "--peer-trusted-ca-file", "/etc/etcd/tls/ca.pem", "--peer-client-cert-auth"));
            }
            c.withCommand(cmd.toArray(String[]::new));
            c.start(); // no ports to wait on: health is awaited below, once every member runs
            members.add(new ContainerHost(name, ip, c, this));
        }
        for (int i = 0; i < size; i++) {
            awaitEtcdHealthy(i, Duration.ofSeconds(60));
        }
    }

    /** Waits until member {@code i} answers {@code /health} with true. */
    public void awaitEtcdHealthy(int i, Duration timeout) {
        HttpClient http = etcdHttp();
        long deadline = System.nanoTime() + timeout.toNanos();
        String url = etcdEndpoints().get(i) + "/health";
        while (System.nanoTime() < deadline) {
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("\"true\"")) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("etcd member m" + i + " not healthy within " + timeout + "; its log: "
                + logs.resolve("m" + i + ".log"));
    }

    /** The index of the etcd member that leads, asked over etcd's JSON gateway; -1 when none answers so. */
    public int etcdLeaderIndex() {
        HttpClient http = etcdHttp();
        Pattern leader = Pattern.compile("\"leader\":\"(\\d+)\"");
        Pattern self = Pattern.compile("\"member_id\":\"(\\d+)\"");
        for (int i = 0; i < members.size(); i++) {
            try {
                String body = http.send(HttpRequest.newBuilder(URI.create(etcdEndpoints().get(i)
                        + "/v3/maintenance/status")).timeout(Duration.ofSeconds(2))
                        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                Matcher l = leader.matcher(body);
                Matcher s = self.matcher(body);
                if (l.find() && s.find() && l.group(1).equals(s.group(1))) {
                    return i;
                }
            } catch (IOException e) {
                // member down or cut off: ask the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return -1;
    }

    /**
     * Starts host {@code name} at the next host address: firewall up (INPUT DROP), then {@code intent-node} under
     * runit with {@code nodeEnv} (INTENT_* options, e.g. INTENT_ETCD) on top of the host's own
     * (INTENT_HOST, INTENT_ADDRESS, INTENT_ROOT=/var/lib/intent, INTENT_BACKEND=iptables,
     * INTENT_RUNSVDIR=external, and with TLS etcd INTENT_ETCD_CA). {@code files} are copied in first (container
     * path to content), e.g. a password file.
     */
    public ContainerHost addHost(String name, Map<String, String> nodeEnv, Map<String, String> files) {
        String ip = subnet + "." + (FIRST_HOST + hosts.size());
        GenericContainer<?> c = container(name, ip)
                .withCopyToContainer(Transferable.of(HostImage.resource("intent-host-init"), 0755),
                        "/usr/local/bin/intent-host-init")
                .withCommand("/usr/local/bin/intent-host-init")
                .withEnv("INTENT_HOST", name)
                .withEnv("INTENT_ADDRESS", ip)
                .withEnv("INTENT_ROOT", "/var/lib/intent")
                .withEnv("INTENT_BACKEND", "iptables")
                .withEnv("INTENT_RUNSVDIR", "external")
                .withEnv("INTENT_HTTP_PORT", "-1")
                .withEnv("INTENT_CLASSPATH", String.join(":", classpath))
                .withEnv("INTENT_JAVA_OPTS", "-Xss512k -Xmx160m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
                        + "-Xshare:auto")
                .withEnv(nodeEnv)
                .waitingFor(Wait.forLogMessage(".*intent-host-init: .* firewall up.*", 1)
                        .withStartupTimeout(Duration.ofSeconds(60)));
        // Binds set on the create command, not withFileSystemBind: that one first checks file mounting with a
        // helper image from a registry, and there is none here.
        List<Bind> binds = classpath.stream().map(e -> new Bind(e, new Volume(e), AccessMode.ro)).toList();
        c.withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(binds));
        if (pki != null) {
            c.withCopyToContainer(Transferable.of(read(pki.ca()), 0644), HOST_CA).withEnv("INTENT_ETCD_CA", HOST_CA);
        }
        files.forEach((path, content) -> c.withCopyToContainer(Transferable.of(content, 0600), path));
        c.start();
        ContainerHost h = new ContainerHost(name, ip, c, this);
        hosts.put(name, h);
        return h;
    }

    /**
     * Starts a plain container (no intent, INPUT open) at {@code .200+n}: a client on the network, e.g. to
     * probe a host's firewall from another machine.
     */
    public ContainerHost addClient(String name) {
        String ip = subnet + "." + (200 + others.size());
        GenericContainer<?> c = container(name, ip).withCommand("sleep", "infinity");
        c.start();
        ContainerHost h = new ContainerHost(name, ip, c, this);
        others.add(h);
        return h;
    }

    /**
     * This JVM's classpath as plain paths, the entries of a manifest-only jar (surefire's booter) included, so
     * a JVM in a container sees the same classes through bind mounts at the same paths.
     */
    static List<String> classpath() {
        Set<String> out = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (e.isEmpty() || !Files.exists(Path.of(e))) {
                continue;
            }
            Path p = Path.of(e).toAbsolutePath();
            out.add(p.toString());
            if (p.toString().endsWith(".jar")) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    var mf = jar.getManifest();
                    String cp = mf == null ? null : mf.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String ref : cp.trim().split("\\s+")) {
                            Path q = Path.of(new URL(p.toUri().toURL(), ref).toURI());
                            if (Files.exists(q)) {
                                out.add(q.toString());
                            }
                        }
                    }
                } catch (IOException | java.net.URISyntaxException ex) {
                    throw new IllegalStateException("cannot read the classpath of " + p, ex);
                }
            }
        }
        return List.copyOf(out);
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static java.util.function.Consumer<OutputFrame> logTo(Path file) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return frame -> {
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND)) {
                w.write(frame.getUtf8String());
            } catch (IOException e) {
                // a log line lost is not worth failing a test over
            }
        };
    }

    /** Removes every container and the network. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<ContainerHost> all = new ArrayList<>(hosts.values());
        all.addAll(others);
        all.addAll(members);
        for (ContainerHost h : all) {
            try {
                if (isPaused(h)) {
                    h.unpause();
                }
                h.container().stop();
            } catch (RuntimeException e) {
                System.err.println("could not remove container " + h + ": " + e);
            }
        }
        try {
            network.close();
        } catch (RuntimeException e) {
            System.err.println("could not remove network " + subnet + ".0/24: " + e);
        }
    }

    private static boolean isPaused(ContainerHost h) {
        try {
            return Boolean.TRUE.equals(h.container().getDockerClient().inspectContainerCmd(h.containerId()).exec()
                    .getState().getPaused());
        } catch (RuntimeException e) {
            return false;
        }
    }
}
