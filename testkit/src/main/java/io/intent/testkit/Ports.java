package io.intent.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/** Free loopback TCP ports for test servers; never hands out the same port twice in one JVM. */
public final class Ports {
    private static final Set<Integer> handedOut = new HashSet<>();

    private Ports() {
    }

    public static synchronized int free() {
        for (int i = 0; i < 100; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
                int p = s.getLocalPort();
                if (handedOut.add(p)) {
                    return p;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free port found");
    }
}
