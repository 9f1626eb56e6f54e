package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private test network of simulated hosts: a bridge in the root namespace with address {@code .1}, and one
 * fresh network namespace per host, attached by a veth pair, with address {@code .10+i} and a default route
 * to the bridge. Servers the test runs on the bridge address (etcd, an artifact server) are reachable from
 * every host; a host's apps are reachable from the test through its address. The subnet is 10.231.N.0/24
 * with N taken from this JVM's pid, so concurrent test JVMs do not collide. {@link #close()} removes it all.
 */
public final class HostNetwork implements AutoCloseable {
    private final String bridge;
    private final String subnet;
    private final List<NetNs> hosts = new ArrayList<>();
    private final List<String> veths = new ArrayList<>();
    private boolean closed;

    private HostNetwork(String bridge, String subnet) {
        this.bridge = bridge;
        this.subnet = subnet;
    }

    /** Creates the bridge and {@code count} host namespaces. */
    public static HostNetwork create(int count) {
        Prerequisites.requireRoot("a test network of namespaces");
        Prerequisites.require("ip", "iproute2");
        long pid = ProcessHandle.current().pid();
        HostNetwork net = new HostNetwork("ibr" + pid % 100000, "10.231." + (20 + pid % 200));
        Runtime.getRuntime().addShutdownHook(new Thread(net::close));
        try {
            run("ip", "link", "add", net.bridge, "type", "bridge");
            run("ip", "addr", "add", net.gateway() + "/24", "dev", net.bridge);
            run("ip", "link", "set", net.bridge, "up");
            for (int i = 0; i < count; i++) {
                net.addHost();
            }
            return net;
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }

    private void addHost() {
        int i = hosts.size();
        NetNs ns = NetNs.create();
        hosts.add(ns);
        String veth = "iv" + ProcessHandle.current().pid() % 100000 + "h" + i;
        String peer = veth + "p";
        veths.add(veth);
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", peer);
        run("ip", "link", "set", veth, "master", bridge, "up");
        run("ip", "link", "set", peer, "netns", ns.name());
        ns.execOk("ip", "link", "set", peer, "name", "eth0");
        ns.execOk("ip", "addr", "add", address(i) + "/24", "dev", "eth0");
        ns.execOk("ip", "link", "set", "eth0", "up");
        ns.execOk("ip", "route", "add", "default", "via", gateway());
    }

    /** The bridge's address, where the test's own servers listen. */
    public String gateway() {
        return subnet + ".1";
    }

    /** Host {@code i}'s address (0-based). */
    public String address(int i) {
        return subnet + "." + (10 + i);
    }

    public NetNs host(int i) {
        return hosts.get(i);
    }

    public int size() {
        return hosts.size();
    }

    /** Cuts host {@code i} off the network (its link down), or reconnects it. */
    public void link(int i, boolean up) {
        run("ip", "link", "set", veths.get(i), up ? "up" : "down");
    }

    static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out.strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + String.join(" ", cmd));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (NetNs ns : hosts) {
            ns.close();
        }
        for (String v : veths) {
            quietly("ip", "link", "del", v);
        }
        quietly("ip", "link", "del", bridge);
    }

    private static void quietly(String... cmd) {
        try {
            new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            // best effort
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
