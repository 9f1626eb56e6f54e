package io.intent.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.codec.Json;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The web page in a real headless Chromium: sign in with a token, deploy a version through the UI, see the status
 * change as the (simulated) dispatcher and setlive agent report, scale and drain. The dispatcher and agents are
 * separate modules; here the test writes what they would write, to real etcd.
 */
class WebPageTest {
    static final Duration PAGE = Duration.ofSeconds(30);

    @Test
    void thePageWorksOverHttpsWithItsEventStream() throws Exception {
        Path dir = Files.createTempDirectory("intent-page-tls-");
        io.intent.testkit.Pki pki = io.intent.testkit.Pki.create(dir);
        var cert = pki.issue("api", "127.0.0.1");
        var http = java.net.http.HttpClient.newBuilder().sslContext(pki.sslContext()).build();
        // trust exactly this certificate's key (Chromium has no per-profile CA file; the key pin is as narrow)
        byte[] spki = java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(cert.cert())).getPublicKey().getEncoded();
        String pin = java.util.Base64.getEncoder().encodeToString(
                java.security.MessageDigest.getInstance("SHA-256").digest(spki));
        try (ApiFixture f = new ApiFixture(o -> o.withExpectedAgents(List.of("setlive"))
                .withTls(new ApiServer.Tls(cert.cert(), cert.key())), http);
             Chromium browser = Chromium.start(List.of("--ignore-certificate-errors-spki-list=" + pin))) {
            assertTrue(f.url("/").startsWith("https://"));
            var keys = f.store.keys();
            f.store.put(keys.host("h1"), new HostSpec(Map.of("zone", "a"), null, "127.0.0.2", false));
            f.store.put(keys.live("h1"), new Liveness("h1", "127.0.0.2", "test", 1, Instant.now()));
            f.store.put(keys.app("web"), Json.read(Fixtures.app("1.0", 1), AppIntent.class));
            converge(f, "1.0", "1.0");
            browser.navigate(f.url("/"));
            browser.type("#token", ApiFixture.VIEWER);
            browser.click("#signin");
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]')?.textContent === 'OK'", PAGE);
            browser.waitFor("document.getElementById('live').textContent === 'live'", PAGE);
            // a change arrives over the HTTPS event stream
            converge(f, "1.0", "2.0");
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]')?.textContent === 'VERSION_MISMATCH'",
                    PAGE);
        }
    }

    @Test
    void anOperatorDeploysAVersionFromThePageAndSeesItGoLive() throws Exception {
        try (ApiFixture f = new ApiFixture(List.of("setlive"));
             Chromium browser = Chromium.start()) {
            var keys = f.store.keys();
            f.store.put(keys.host("h1"), new HostSpec(Map.of("zone", "a"), null, "127.0.0.2", false));
            f.store.put(keys.live("h1"), new Liveness("h1", "127.0.0.2", "test", 1, Instant.now()));
            f.store.put(keys.app("web"), Json.read(Fixtures.app("1.0", 1), AppIntent.class));
            converge(f, "1.0", "1.0");

            browser.navigate(f.url("/"));
            browser.type("#token", ApiFixture.OPERATOR);
            browser.click("#signin");
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]')?.textContent === 'OK'", PAGE);
            browser.waitFor("document.getElementById('live').textContent === 'live'", PAGE);
            assertEquals("1.0", browser.text("[data-running=\"web/h1\"]"));

            // deploy 2.0 through the UI: pick the version, click the button
            browser.choose("[data-version-for=\"web\"]", "2.0");
            browser.click("[data-deploy=\"web\"]");
            await().atMost(PAGE).until(() -> active(f).equals("2.0"));
            // the dispatcher has not placed the new revision yet: the page says so without a reload
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]')?.textContent === 'PENDING'", PAGE);

            // placed and assigned, setlive still runs 1.0
            converge(f, "2.0", "1.0");
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]')?.textContent === 'VERSION_MISMATCH'",
                    PAGE);
            // setlive switched: live
            converge(f, "2.0", "2.0");
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]')?.textContent === 'OK'", PAGE);
            assertEquals("2.0", browser.text("[data-running=\"web/h1\"]"));
            assertEquals("2.0", browser.text("[data-active=\"web\"]"));
            Path shot = Path.of("target", "webpage-deploy.png");
            browser.screenshot(shot);
            assertTrue(Files.size(shot) > 5_000, "screenshot is an image");

            // the app follows a release channel, then a failed rollout stops it: the page says which and why
            var following = f.store.get(keys.app("web"), AppIntent.class).orElseThrow().value()
                    .withChannel(new io.intent.store.model.ChannelFollow("stable", "2.0", 12L, 11L, Instant.now(),
                            null, null, List.of()));
            f.store.put(keys.app("web"), following);
            browser.waitFor("document.querySelector('[data-channel=\"web\"]')?.textContent"
                    + ".startsWith('follows stable (moved to 2.0 by channel revision 12)')", PAGE);
            f.store.put(keys.app("web"), following.withChannel(following.channel().stop(
                    "rollout of 2.0 from channel stable failed on h1", Instant.parse("2026-01-02T03:04:05Z"))));
            browser.waitFor("document.querySelector('[data-channel=\"web\"]')?.textContent === 'stopped following"
                    + " stable at 2026-01-02T03:04:05Z: rollout of 2.0 from channel stable failed on h1'", PAGE);

            // scale and drain through the UI
            browser.retype("[data-scale-for=\"web\"]", "2");
            browser.click("[data-scale=\"web\"]");
            await().atMost(PAGE).until(() -> stored(f).scaleOrDefault() == 2);
            browser.waitFor("document.querySelector('[data-ready=\"web\"]')?.textContent.endsWith('/2')", PAGE);
            browser.click("[data-drain=\"h1\"]");
            await().atMost(PAGE).until(() -> f.store.get(keys.host("h1"), HostSpec.class).orElseThrow().value()
                    .drainOrDefault());
            browser.waitFor("document.querySelector('[data-drain-state=\"h1\"]')?.textContent === 'draining'", PAGE);
            assertEquals("a", f.store.get(keys.host("h1"), HostSpec.class).orElseThrow().value().labels().get("zone"));
            browser.screenshot(Path.of("target", "webpage-drain.png"));
        }
    }

    @Test
    void aViewerSeesTheRefusalOfAnActionOnThePage() throws Exception {
        try (ApiFixture f = new ApiFixture(List.of("setlive"));
             Chromium browser = Chromium.start()) {
            f.store.put(f.store.keys().app("web"), Json.read(Fixtures.app("1.0", 1), AppIntent.class));
            browser.navigate(f.url("/"));
            browser.type("#token", ApiFixture.VIEWER);
            browser.click("#signin");
            browser.waitFor("document.querySelector('[data-state-app=\"web\"]') !== null", PAGE);
            browser.choose("[data-version-for=\"web\"]", "2.0");
            browser.click("[data-deploy=\"web\"]");
            browser.waitFor("document.getElementById('banner').textContent.includes('has role viewer')", PAGE);
            assertEquals("1.0", active(f));
        }
    }

    static AppIntent stored(ApiFixture f) {
        return f.store.get(f.store.keys().app("web"), AppIntent.class).orElseThrow().value();
    }

    static String active(ApiFixture f) {
        return stored(f).active();
    }

    /** Writes what the dispatcher and setlive would: placement, assignment, and setlive's report. */
    static void converge(ApiFixture f, String expectActive, String running) {
        var keys = f.store.keys();
        var e = f.store.get(keys.app("web"), AppIntent.class).orElseThrow();
        assertEquals(expectActive, e.value().active());
        f.store.put(keys.placement("web"), new Placement(List.of("h1"), e.value().scaleOrDefault(), e.modRevision(),
                null));
        f.store.put(keys.assignment("h1", "web"), new Assignment("web", "h1", e.modRevision(), e.value()));
        f.store.put(keys.status("h1", "web", "setlive"), new AgentStatus("setlive", Phase.READY, running,
                e.modRevision(), null, 0, Instant.now(), null, Map.of()));
    }
}
