package io.intent.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelStatus;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Fleet;
import io.intent.testkit.Pki;
import io.intent.testkit.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Release channels on real etcd, a real leader JVM and node JVMs running the apps under runit: an app following a
 * channel moves when the channel moves and stops following after a failed rollout; a channel fed from an HTTPS
 * manifest (served here, under a private CA) moves with its feed; bad channels, manifests and names are each a
 * clear error in a status, and hurt nothing else.
 */
class ChannelTest {
    private static final Fleet.Timing FAST = new Fleet.Timing(3, 30, 3);
    private static final Duration CONVERGE = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    private Path work;
    private Fleet fleet;
    private EtcdStore store;
    private HttpsServer feed;

    @AfterEach
    void stop() {
        if (feed != null) {
            feed.stop(0);
        }
        if (store != null) {
            store.close();
        }
        if (fleet != null) {
            fleet.close();
            for (int i = 0; i < fleet.size(); i++) {
                try {
                    io.intent.setlive.Runsvdir.shutdown(fleet.root(i).resolve("services"),
                            fleet.root(i).resolve("setlive"), Duration.ofSeconds(5));
                } catch (Exception e) {
                    System.err.println("could not stop the apps of " + fleet.root(i) + ": " + e);
                }
            }
        }
    }

    private void start(int hosts) throws IOException {
        work = Files.createTempDirectory("intent-channels-");
        fleet = Fleet.start(work, hosts, FAST, List.of("--channel-poll", "0.5", "--coalesce-ms", "20"));
        store = EtcdStore.connect(EtcdConfig.of(List.of(fleet.endpoints().split(","))));
    }

    /** A version of the demo app (distinct bytes per version); {@code healthy} false never listens. */
    private String[] artifact(String version, boolean healthy) {
        String script = healthy ? DemoApp.serverScript() + "\n# build " + version + "\n"
                : "#!/bin/sh\n# build " + version + ": never listens\nexec sleep 3600\n";
        Path tgz = DemoApp.tarball(work.resolve("repo/web-" + version + ".tar.gz"), script);
        return new String[] {tgz.toUri().toString(), DemoApp.sha256(tgz)};
    }

    private void putChannel(String name, String version, String[] artifact) {
        fleet.etcdctl("put", "/intent/channels/" + name, "{\"version\":\"" + version + "\",\"artifact\":\""
                + artifact[0] + "\",\"sha256\":\"" + artifact[1] + "\"}");
    }

    private String follower(String channel, int scale, int port) {
        return "{\"channel\":{\"follow\":\"" + channel + "\"},\"run\":{\"command\":[\"bin/server\"]},"
                + "\"ports\":[{\"name\":\"http\",\"port\":" + port + "}],\"health\":{\"http\":\"/healthz\","
                + "\"port\":\"http\",\"timeoutSeconds\":4},\"scale\":" + scale + ",\"resources\":{\"cpu\":0.1,"
                + "\"memoryMb\":32}}";
    }

    private AppIntent app(String name) {
        return store.get(store.keys().app(name), AppIntent.class).orElseThrow().require();
    }

    private long channelRevision(String name) {
        return store.get(store.keys().channel(name), Channel.class).orElseThrow().modRevision();
    }

    private ChannelStatus channelStatus(String name) {
        return store.get(store.keys().channelStatus(name), ChannelStatus.class).map(e -> e.value()).orElse(null);
    }

    private String serves(int host, int port) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + fleet.address(host) + ":"
                    + port + "/")).timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body().trim() : "HTTP " + r.statusCode();
        } catch (IOException e) {
            return "down";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private boolean allServe(int port, String version) {
        for (int i = 0; i < fleet.size(); i++) {
            if (!version.equals(serves(i, port))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void anAppFollowingStableMovesWhenTheChannelMovesAndStopsFollowingAfterAFailedRollout() throws Exception {
        start(2);
        int port = Ports.free();
        putChannel("stable", "1.0", artifact("1.0", true));
        fleet.etcdctl("put", "/intent/apps/web", follower("stable", 2, port));
        await().atMost(CONVERGE).until(() -> allServe(port, "1.0"));
        long firstMove = channelRevision("stable");
        assertEquals(firstMove, app("web").channel().revision());

        putChannel("stable", "2.0", artifact("2.0", true));
        long secondMove = channelRevision("stable");
        await().atMost(CONVERGE).until(() -> allServe(port, "2.0"));
        AppIntent moved = app("web");
        assertEquals("2.0", moved.active());
        assertEquals(secondMove, moved.channel().revision(), "the app names the channel move that caused it");
        assertTrue(moved.versions().keySet().containsAll(List.of("1.0", "2.0")));

        // 3.0 never gets healthy: setlive rolls the first host back to 2.0 and the leader stops following
        putChannel("stable", "3.0", artifact("3.0", false));
        await().atMost(CONVERGE).until(() -> app("web").channel().stopped() != null);
        AppIntent stopped = app("web");
        assertTrue(stopped.channel().stopped().contains("rollout of 3.0 from channel stable failed"),
                stopped.channel().stopped());
        assertTrue(stopped.channel().stopped().contains("rolled back to 2.0"), stopped.channel().stopped());
        assertEquals("stable", stopped.channel().follow());
        await().atMost(CONVERGE).until(() -> {
            var p = store.get(store.keys().placement("web"), Placement.class).orElseThrow().value();
            return p.channel() != null && p.channel().stopped() != null;
        });
        // setlive keeps retrying 3.0 with backoff on each host (rolling back each time) until an operator decides
        await().atMost(CONVERGE).until(() -> "2.0".equals(serves(0, port)) || "2.0".equals(serves(1, port)));

        // the channel moves on; the stopped app waits for an operator
        putChannel("stable", "4.0", artifact("4.0", true));
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(8)).until(() -> {
            AppIntent a = app("web");
            return "3.0".equals(a.active()) && !a.versions().containsKey("4.0") && !"4.0".equals(serves(0, port))
                    && !"4.0".equals(serves(1, port));
        });

        // an operator follows again: the app moves to 4.0 through the ordinary rollout
        AppIntent again = app("web").withChannel(io.intent.store.model.ChannelFollow.of("stable"));
        fleet.etcdctl("put", "/intent/apps/web", Json.writeString(again));
        await().atMost(CONVERGE).until(() -> allServe(port, "4.0"));
        assertNull(app("web").channel().stopped());
        ChannelStatus st = channelStatus("stable");
        assertEquals(Phase.READY, st.phase());
        assertEquals(List.of("web"), st.followers());
    }

    @Test
    void aChannelFedFromAnHttpsManifestMovesWithItsFeedAndBadInputIsAClearErrorThatHurtsNothingElse()
            throws Exception {
        start(1);
        String[] v1 = artifact("1.0", true);
        String[] v2 = artifact("2.0", true);
        AtomicReference<String> manifest = new AtomicReference<>(manifest("1.0", v1));
        AtomicInteger notModified = new AtomicInteger();
        String url = serveFeed(manifest, notModified);

        fleet.etcdctl("put", "/intent/channels/fed", "{\"feed\":\"" + url + "\",\"ca\":\"" + work.resolve("pki/ca.pem")
                + "\"}");
        fleet.etcdctl("put", "/intent/apps/fedapp", follower("fed", 0, Ports.free()));
        await().atMost(CONVERGE).until(() -> "1.0".equals(app("fedapp").active()));
        assertEquals(v1[1], app("fedapp").versions().get("1.0").sha256());
        await().atMost(CONVERGE).until(() -> notModified.get() > 0);
        assertEquals(Phase.READY, channelStatus("fed").phase());

        manifest.set(manifest("2.0", v2));
        await().atMost(CONVERGE).until(() -> "2.0".equals(app("fedapp").active()));
        assertEquals(channelRevision("fed"), app("fedapp").channel().revision());
        assertEquals(url, store.get(store.keys().channel("fed"), Channel.class).orElseThrow().value().feed());

        // a healthy neighbour on another channel, which nothing below may touch
        putChannel("stable", "1.0", v1);
        fleet.etcdctl("put", "/intent/apps/other", follower("stable", 0, Ports.free()));
        await().atMost(CONVERGE).until(() -> "1.0".equals(app("other").active()));
        long otherRevision = store.get(store.keys().app("other"), AppIntent.class).orElseThrow().modRevision();

        // the feed serves something that is not JSON
        manifest.set("<html>maintenance</html>");
        await().atMost(CONVERGE).until(() -> channelStatus("fed").phase() == Phase.FAILED);
        assertTrue(channelStatus("fed").message().contains("did not serve a channel manifest: malformed JSON"),
                channelStatus("fed").message());
        assertEquals("2.0", store.get(store.keys().channel("fed"), Channel.class).orElseThrow().value().version());

        // the feed names a version without sha256
        manifest.set("{\"version\":\"3.0\",\"artifact\":\"" + v2[0] + "\"}");
        await().atMost(CONVERGE).until(() -> channelStatus("fed").message().contains("sha256: required with artifact"));
        assertEquals("2.0", app("fedapp").active());

        // a channel written by hand pointing at a version without sha256
        fleet.etcdctl("put", "/intent/channels/broken", "{\"version\":\"9.0\",\"artifact\":\"" + v2[0] + "\"}");
        fleet.etcdctl("put", "/intent/apps/brokenapp", follower("broken", 0, Ports.free()));
        await().atMost(CONVERGE).until(() -> channelStatus("broken") != null
                && channelStatus("broken").phase() == Phase.FAILED);
        assertTrue(channelStatus("broken").message().contains("sha256: required with artifact"),
                channelStatus("broken").message());
        await().atMost(CONVERGE).until(() -> {
            var p = store.get(store.keys().placement("brokenapp"), Placement.class);
            return p.isPresent() && p.get().value().pendingReason() != null;
        });
        assertEquals("waiting for channel broken to name a version",
                store.get(store.keys().placement("brokenapp"), Placement.class).orElseThrow().value().pendingReason());
        assertNull(app("brokenapp").active());

        // an app following a channel whose name is not a DNS label
        fleet.etcdctl("put", "/intent/apps/badname", follower("Stable_1", 0, Ports.free()));
        await().atMost(CONVERGE).until(() -> store.get(store.keys().placement("badname"), Placement.class).isPresent());
        String why = store.get(store.keys().placement("badname"), Placement.class).orElseThrow().value().pendingReason();
        assertTrue(why.contains("channel.follow: 'Stable_1' is not a DNS label"), why);

        // nothing else was hurt: the neighbour still follows, unchanged, and its channel still moves it
        assertEquals(otherRevision, store.get(store.keys().app("other"), AppIntent.class).orElseThrow().modRevision());
        assertEquals(Phase.READY, channelStatus("stable").phase());
        putChannel("stable", "2.0", v2);
        await().atMost(CONVERGE).until(() -> "2.0".equals(app("other").active()));

        // the feed recovers
        String[] v3 = artifact("3.0", true);
        manifest.set(manifest("3.0", v3));
        await().atMost(CONVERGE).until(() -> "3.0".equals(app("fedapp").active()));
        await().atMost(CONVERGE).until(() -> channelStatus("fed").phase() == Phase.READY);
    }

    private static String manifest(String version, String[] artifact) {
        return "{\"version\":\"" + version + "\",\"artifact\":\"" + artifact[0] + "\",\"sha256\":\"" + artifact[1]
                + "\"}";
    }

    /** Serves {@code body} over HTTPS with a certificate of a private CA made here, with an ETag per body. */
    private String serveFeed(AtomicReference<String> body, AtomicInteger notModified) throws Exception {
        Pki pki = Pki.create(Files.createDirectories(work.resolve("pki")));
        Pki.Cert cert = pki.issue("feed", "127.0.0.1");
        Path p12 = work.resolve("pki/feed.p12");
        Process openssl = new ProcessBuilder("openssl", "pkcs12", "-export", "-in", cert.cert().toString(), "-inkey",
                cert.key().toString(), "-out", p12.toString(), "-passout", "pass:feed").redirectErrorStream(true).start();
        String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, openssl.waitFor(), "openssl pkcs12: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, "feed".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "feed".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        feed = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        feed.setHttpsConfigurator(new HttpsConfigurator(ssl));
        feed.createContext("/stable.json", ex -> {
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            String etag = "\"" + Integer.toHexString(body.get().hashCode()) + "\"";
            ex.getResponseHeaders().set("ETag", etag);
            if (etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
                notModified.incrementAndGet();
                ex.sendResponseHeaders(304, -1);
            } else {
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            }
            ex.close();
        });
        feed.start();
        assertNotNull(feed.getAddress());
        return "https://127.0.0.1:" + feed.getAddress().getPort() + "/stable.json";
    }
}
