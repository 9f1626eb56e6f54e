package io.intent.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.ApiServer;
import io.intent.api.Tokens;
import io.intent.cli.Ctl.Run;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelFollow;
import io.intent.store.model.ChannelStatus;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Phase;
import io.intent.store.model.Placement;
import io.intent.testkit.EtcdCluster;
import io.intent.testkit.JvmProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** intentctl end to end: in-process commands against a running API on a real etcd, effects checked in etcd. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntentCtlTest {
    static final String OPERATOR = "operator-secret-42";
    static final String VIEWER = "viewer-secret-42";
    static final String SHA_A = "a".repeat(64);
    static final String SHA_B = "b".repeat(64);

    EtcdCluster etcd;
    EtcdStore store;
    Tokens tokens;
    ApiServer api;

    @TempDir
    Path dir;

    @BeforeAll
    void start() {
        etcd = EtcdCluster.single();
        store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
        tokens = new Tokens(Map.of(Tokens.hash(OPERATOR), new Tokens.Token("op", io.intent.api.Role.OPERATOR, "test"),
                Tokens.hash(VIEWER), new Tokens.Token("view", io.intent.api.Role.VIEWER, "test")));
        api = ApiServer.start(store, tokens, ApiServer.Options.defaults().withPort(0)
                .withExpectedAgents(List.of("setlive")));
    }

    @AfterAll
    void stop() {
        try {
            if (api != null) {
                api.close();
            }
            if (store != null) {
                store.close();
            }
        } finally {
            if (etcd != null) {
                etcd.close();
            }
        }
    }

    /** Waits until the API's read cache has what was written to etcd behind its back (the watch delay). */
    void apiCaughtUp() throws Exception {
        long rev = store.revision();
        var http = java.net.http.HttpClient.newHttpClient();
        var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.url() + "/v1/apps"))
                .header("Authorization", "Bearer " + VIEWER).build();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> http.send(req,
                java.net.http.HttpResponse.BodyHandlers.discarding()).headers().firstValue("X-Intent-Revision")
                .map(Long::parseLong).orElse(-1L) >= rev);
    }

    Run ctl(String token, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--api=" + api.url());
        if (token != null) {
            all.add("--token=" + token);
        }
        return Ctl.run(all.toArray(String[]::new));
    }

    /** Runs intentctl with exactly these arguments (no --api or --token added). */
    static Run raw(String... args) {
        return Ctl.run(args);
    }

    Run ok(String... args) {
        Run r = ctl(OPERATOR, args);
        assertEquals(0, r.code(), () -> "exit " + r.code() + "\nout: " + r.out() + "\nerr: " + r.err());
        return r;
    }

    static String app(String name, String active, int scale, int port) {
        return "name: " + name + "\nversions:\n  \"1.0\": {artifact: \"file:///srv/a.tgz\", sha256: \"" + SHA_A + "\"}\n"
                + "  \"2.0\": {artifact: \"file:///srv/b.tgz\", sha256: \"" + SHA_B + "\"}\nactive: \"" + active
                + "\"\nrun: {command: [bin/run]}\nports: [{name: http, port: " + port + "}]\nscale: " + scale + "\n";
    }

    Path file(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    AppIntent stored(String app) {
        return store.get(store.keys().app(app), AppIntent.class).orElseThrow().value();
    }

    @Test
    void applyWritesEveryAppOfAFileAndLeavesUnchangedOnesAlone() throws Exception {
        Path f = file("apps.yaml", app("ap-web", "1.0", 1, 8001) + "---\n" + app("ap-api", "2.0", 2, 8002));
        Run r = ok("apply", "-f", f.toString());
        assertTrue(r.out().contains("app/ap-web created"), r.out());
        assertTrue(r.out().contains("app/ap-api created"), r.out());
        assertEquals("2.0", stored("ap-api").active());
        long rev = store.get(store.keys().app("ap-web"), AppIntent.class).orElseThrow().modRevision();
        Run again = ok("apply", "-f", f.toString());
        assertTrue(again.out().contains("app/ap-web unchanged"), again.out());
        assertEquals(rev, store.get(store.keys().app("ap-web"), AppIntent.class).orElseThrow().modRevision());
    }

    @Test
    void applyWithOneInvalidAppWritesNothingAndSaysWhy() throws Exception {
        Path f = file("bad.yaml", app("inv-ok", "1.0", 1, 8003) + "---\n" + app("inv-bad", "9.9", -2, 70000));
        Run r = ctl(OPERATOR, "apply", "-f", f.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("app inv-bad is invalid"), r.err());
        assertTrue(r.err().contains("scale"), r.err());
        assertTrue(r.err().contains("ports[0].port"), r.err());
        assertTrue(store.get(store.keys().app("inv-ok"), AppIntent.class).isEmpty(), "all or nothing");
        Run unknown = ctl(OPERATOR, "apply", "-f", file("typo.yaml", "name: x\nsclae: 1\n").toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("sclae"), unknown.err());
    }

    @Test
    void planShowsTheDiffAndPlacementWithoutWriting() throws Exception {
        ok("apply", "-f", file("p1.yaml", app("pl-web", "1.0", 1, 8004)).toString());
        store.put(store.keys().host("pl-h1"), new HostSpec(Map.of(), null, null, false));
        store.put(store.keys().live("pl-h1"), new Liveness("pl-h1", null, "t", 1, Instant.now()));
        apiCaughtUp();
        long before = store.revision();
        Run r = ok("plan", "-f", file("p2.yaml", app("pl-web", "2.0", 1, 8004)).toString());
        assertTrue(r.out().contains("~ app pl-web: update"), r.out());
        assertTrue(r.out().contains("active: 1.0 -> 2.0"), r.out());
        assertTrue(r.out().contains("would be placed on"), r.out());
        assertEquals(before, store.revision());
        Run json = ok("plan", "-f", file("p3.yaml", app("pl-web", "2.0", 1, 8004)).toString(), "-o", "json");
        assertEquals("update", Json.tree(json.out().getBytes()).path("apps").get(0).path("action").asText());
    }

    @Test
    void getPrintsTablesJsonAndYaml() throws Exception {
        ok("apply", "-f", file("g.yaml", app("get-web", "1.0", 1, 8005)).toString());
        store.put(store.keys().host("get-h1"), new HostSpec(Map.of("zone", "a"), null, "127.0.0.9", false));
        apiCaughtUp();
        Run table = ok("get", "apps");
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("get-web") && l.contains("1.0,2.0")), table.out());
        Run json = ok("get", "apps", "get-web", "-o", "json");
        assertEquals("1.0", Json.tree(json.out().getBytes()).path("intent").path("active").asText());
        Run yaml = ok("get", "hosts", "-o", "yaml");
        assertTrue(yaml.out().contains("name: get-h1"), yaml.out());
        Run hosts = ok("get", "hosts");
        assertTrue(hosts.out().contains("zone=a"), hosts.out());
        assertTrue(ok("get", "status").out().contains("get-web"));
        ok("get", "assignments");
        ok("get", "leader");
        assertEquals(2, ctl(OPERATOR, "get", "pods").code());
    }

    @Test
    void describeDeployScaleRollbackAndDeleteChangeEtcd() throws Exception {
        ok("apply", "-f", file("d.yaml", app("dd-web", "1.0", 1, 8006)).toString());
        ok("deploy", "dd-web", "2.0");
        assertEquals("2.0", stored("dd-web").active());
        ok("scale", "dd-web", "3");
        assertEquals(3, stored("dd-web").scale());
        Run d = ok("describe", "app", "dd-web");
        assertTrue(d.out().contains("Active:     2.0"), d.out());
        assertTrue(d.out().contains("active 1.0"), d.out());
        Run rb = ok("rollback", "app", "dd-web");
        assertTrue(rb.out().contains("2.0 -> 1.0"), rb.out());
        assertEquals("1.0", stored("dd-web").active());
        assertEquals(3, stored("dd-web").scale());
        assertEquals(1, ctl(OPERATOR, "deploy", "dd-web", "7.0").code());
        ok("delete", "app", "dd-web");
        assertTrue(store.get(store.keys().app("dd-web"), AppIntent.class).isEmpty());
        Run missing = ctl(OPERATOR, "delete", "app", "dd-web");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("not found"), missing.err());
    }

    @Test
    void drainMarksTheHostInEtcd() throws Exception {
        store.put(store.keys().host("dr-h1"), new HostSpec(Map.of("zone", "b"), null, null, false));
        apiCaughtUp();
        ok("drain", "dr-h1");
        var spec = store.get(store.keys().host("dr-h1"), HostSpec.class).orElseThrow().value();
        assertTrue(spec.drainOrDefault());
        assertEquals("b", spec.labels().get("zone"), "drain changes drain only");
        ok("drain", "dr-h1", "--undo");
        assertFalse(store.get(store.keys().host("dr-h1"), HostSpec.class).orElseThrow().value().drainOrDefault());
    }

    @Test
    void statusWaitExitsZeroOnceTheAppConverges() throws Exception {
        ok("apply", "-f", file("w.yaml", app("wait-web", "1.0", 1, 8007)).toString());
        // the fallback re-read is 30 s away: finishing well before it proves /v1/events woke the wait up
        long start = System.nanoTime();
        StringWriter out = new StringWriter();
        CompletableFuture<Run> waiting = CompletableFuture.supplyAsync(() -> Ctl.run(out, "status", "wait-web",
                "--wait", "--timeout", "1m", "--api=" + api.url(), "--token=" + OPERATOR));
        // the agents' side, each step once the waiting command has shown the one before
        await().atMost(Duration.ofSeconds(20)).until(() -> out.toString().contains("PENDING"));
        var e = store.get(store.keys().app("wait-web"), AppIntent.class).orElseThrow();
        store.put(store.keys().host("w-h1"), new HostSpec(Map.of(), null, null, false));
        store.put(store.keys().live("w-h1"), new Liveness("w-h1", null, "t", 1, Instant.now()));
        store.put(store.keys().placement("wait-web"), new Placement(List.of("w-h1"), 1, e.modRevision(), null));
        store.put(store.keys().assignment("w-h1", "wait-web"),
                new Assignment("wait-web", "w-h1", e.modRevision(), e.value()));
        await().atMost(Duration.ofSeconds(20)).until(() -> out.toString().contains("wait-web/w-h1"));
        store.put(store.keys().status("w-h1", "wait-web", "setlive"), new AgentStatus("setlive", Phase.READY,
                "1.0", e.modRevision(), null, 0, Instant.now(), null, Map.of()));
        Run r = waiting.get(60, TimeUnit.SECONDS);
        assertEquals(0, r.code(), () -> "exit " + r.code() + "\nout: " + r.out() + "\nerr: " + r.err());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 20, "took too long: " + r.out());
        assertTrue(r.out().contains("PENDING"), r.out());
        assertTrue(r.out().contains("wait-web/w-h1  OK"), r.out());
        assertTrue(r.out().contains("converged: wait-web"), r.out());
    }

    @Test
    void statusWaitExitsNonZeroWhenItTimesOut() throws Exception {
        ok("apply", "-f", file("t.yaml", app("never-web", "1.0", 1, 8008)).toString());
        Run r = ctl(VIEWER, "status", "never-web", "--wait", "--timeout", "2s");
        assertEquals(3, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("timed out"), r.err());
        assertTrue(r.err().contains("PENDING"), r.err());
    }

    @Test
    void authAndConnectionProblemsAreClearErrors() throws Exception {
        Run none = ctl(null, "get", "apps");
        assertEquals(1, none.code());
        assertTrue(none.err().contains("missing bearer token") && none.err().contains("INTENT_TOKEN"), none.err());
        Run viewer = ctl(VIEWER, "apply", "-f", file("v.yaml", app("v-web", "1.0", 1, 8009)).toString());
        assertEquals(1, viewer.code());
        assertTrue(viewer.err().contains("role viewer"), viewer.err());
        assertTrue(store.get(store.keys().app("v-web"), AppIntent.class).isEmpty());
        // a write (with a body) refused for its token says why, as a read does
        Run anonymousWrite = ctl(null, "apply", "-f", file("n.yaml", app("n-web", "1.0", 1, 8010)).toString());
        assertEquals(1, anonymousWrite.code());
        assertTrue(anonymousWrite.err().contains("missing bearer token")
                && anonymousWrite.err().contains("INTENT_TOKEN"), anonymousWrite.err());
        Run unknownHost = raw("get", "apps", "--api=http://no-such-host.invalid:8080", "--request-timeout=5");
        assertEquals(1, unknownHost.code());
        assertTrue(unknownHost.err().contains("cannot reach the API"), unknownHost.err());
        var cl = IntentCtl.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("get", "apps", "--api=http://127.0.0.1:1", "--request-timeout=2");
        assertEquals(1, code);
        assertTrue(err.toString().contains("cannot reach the API"), err.toString());
    }

    @Test
    void tokenHashPrintsWhatTheApiStores() {
        Run r = ok("token", "hash", "s3cret");
        assertEquals(Tokens.hash("s3cret"), r.out().strip());
    }

    @Test
    void helpDescribesEveryCommand() {
        Run r = ctl(null, "--help");
        assertEquals(0, r.code());
        for (String c : List.of("apply", "plan", "get", "describe", "status", "delete", "rollback", "deploy", "scale",
                "drain", "token")) {
            assertTrue(r.out().contains("  " + c), c + " missing from\n" + r.out());
        }
        assertTrue(r.out().contains("INTENT_API"));
    }

    @Test
    void theLauncherJvmReadsTheApiAndTokenFromTheEnvironment() throws Exception {
        ok("apply", "-f", file("env.yaml", app("env-web", "1.0", 1, 8010)).toString());
        Path log = dir.resolve("ctl.log");
        try (JvmProcess p = JvmProcess.start(IntentCtl.class, List.of("get", "apps", "-o", "json"),
                Map.of("INTENT_API", api.url(), "INTENT_TOKEN", VIEWER), log)) {
            assertTrue(p.waitFor(60), "intentctl did not exit");
            assertEquals(0, p.exitCode(), p.output());
            assertTrue(p.output().contains("env-web"), p.output());
        }
    }

    // ---- release channels (intentctl channel set|get|list|follow and the API's channel routes)

    @Test
    void channelSetWritesTheChannelAndGetAndListShowItWithTheLeadersStatus() {
        Run set = ok("channel", "set", "ch-stable", "2.0", "--artifact", "https://repo.example/web-2.0.tar.gz",
                "--sha256", SHA_A);
        assertTrue(set.out().startsWith("channel/ch-stable -> 2.0 (revision "), set.out());
        Channel stored = store.get(store.keys().channel("ch-stable"), Channel.class).orElseThrow().require();
        assertEquals(new Channel("2.0", "https://repo.example/web-2.0.tar.gz", SHA_A, null, null, null, null, null),
                stored);
        store.put(store.keys().channelStatus("ch-stable"), new ChannelStatus(Phase.READY, "2.0", 1, "points at 2.0",
                null, List.of("web"), Instant.now()));
        Run get = ok("channel", "get", "ch-stable");
        assertTrue(get.out().contains("\"phase\" : \"READY\"") && get.out().contains("\"sha256\" : \"" + SHA_A),
                get.out());
        Run list = ok("channel", "list");
        assertTrue(list.out().lines().anyMatch(l -> l.matches("ch-stable\\s+2\\.0\\s+READY\\s+web / points at 2\\.0")),
                list.out());
    }

    @Test
    void aChannelWithoutSha256OrWithABadNameIsRefusedNamingTheProblemAndWritesNothing() {
        Run noSha = ctl(OPERATOR, "channel", "set", "ch-nosha", "2.0", "--artifact", "https://r/web.tgz");
        assertEquals(1, noSha.code(), noSha.out() + noSha.err());
        assertTrue(noSha.err().contains("sha256: required with artifact"), noSha.err());
        Run badName = ctl(OPERATOR, "channel", "set", "Stable_1", "2.0", "--artifact", "https://r/web.tgz",
                "--sha256", SHA_A);
        assertEquals(1, badName.code(), badName.out() + badName.err());
        assertTrue(badName.err().contains("is not a DNS label"), badName.err());
        Run httpFeed = ctl(OPERATOR, "channel", "set", "ch-feed", "--feed", "http://feeds.example/s.json");
        assertTrue(httpFeed.err().contains("feed: must be an https:// URL"), httpFeed.err());
        assertEquals(0, store.count(store.keys().channel("ch-nosha")) + store.count(store.keys().channel("ch-feed")));
        Run viewer = ctl(VIEWER, "channel", "set", "ch-viewer", "2.0", "--artifact", "https://r/web.tgz",
                "--sha256", SHA_A);
        assertEquals(1, viewer.code(), "a viewer cannot move a channel: " + viewer.out());
    }

    @Test
    void channelFollowWritesAFreshBlockSoAStoppedAppFollowsAgain() throws Exception {
        ok("apply", "-f", file("cf.yaml", app("cf-web", "1.0", 1, 8101)).toString());
        AppIntent stopped = stored("cf-web").withChannel(new ChannelFollow("stable", "1.0", 5L, 6L, Instant.now(),
                "rollout of 1.0 failed", Instant.now(), List.of()));
        store.put(store.keys().app("cf-web"), stopped);
        Run r = ok("channel", "follow", "cf-web", "stable");
        assertTrue(r.out().startsWith("app/cf-web follows channel stable"), r.out());
        assertEquals(ChannelFollow.of("stable"), stored("cf-web").channel());
        assertEquals("1.0", stored("cf-web").active(), "nothing else changed");
    }

    @Test
    void getAppAsYamlIsAcceptedBackByApplyAfterAnEdit() throws Exception {
        ok("apply", "-f", file("rt.yaml", app("rt-web", "1.0", 1, 8011)).toString());
        String yaml = ok("get", "app", "rt-web", "-o", "yaml").out();
        ok("apply", "-f", file("rt-same.yaml", yaml).toString());
        assertTrue(ok("apply", "-f", file("rt-same2.yaml", yaml).toString()).out().contains("app/rt-web unchanged"));
        Run edited = ok("apply", "-f", file("rt-edit.yaml", yaml.replace("scale: 1", "scale: 4")).toString());
        assertTrue(edited.out().contains("app/rt-web configured"), edited.out());
        assertEquals(4, stored("rt-web").scale());
        String all = ok("get", "apps", "-o", "json").out();
        assertTrue(ok("apply", "-f", file("rt-all.json", all).toString()).out().contains("app/rt-web unchanged"));
        store.put(store.keys().host("rt-h1"), new HostSpec(Map.of("zone", "c"), null, null, false));
        apiCaughtUp(); // written behind the API's back: its read cache sees it after the watch delay
        String host = ok("get", "host", "rt-h1", "-o", "yaml").out();
        ok("apply", "-f", file("rt-host.yaml", host.replace("zone: c", "zone: d")).toString());
        assertEquals("d", store.get(store.keys().host("rt-h1"), HostSpec.class).orElseThrow().value().labels().get("zone"));
    }

    @Test
    void wideAddsColumnsAndNamePrintsKindSlashName() throws Exception {
        ok("apply", "-f", file("wn.yaml", app("wn-web", "1.0", 1, 8012)).toString());
        store.put(store.keys().host("wn-h1"), new HostSpec(Map.of(), null, null, false));
        assertTrue(ok("get", "apps", "-o", "name").out().lines().anyMatch(l -> l.equals("app/wn-web")));
        assertTrue(ok("get", "hosts", "-o", "name").out().lines().anyMatch(l -> l.equals("host/wn-h1")));
        assertTrue(ok("get", "status", "-o", "name").out().lines().anyMatch(l -> l.equals("app/wn-web")));
        Run wide = ok("get", "apps", "-o", "wide");
        assertTrue(wide.out().contains("RUNTIME") && wide.out().contains("http:8012/tcp"), wide.out());
        assertTrue(ok("get", "hosts", "-o", "wide").out().contains("CAPACITY"));
        assertTrue(ok("get", "status", "-o", "wide").out().contains("AGENTS"));
    }

    @Test
    void getWatchPrintsTheRowsThatChange() throws Exception {
        ok("apply", "-f", file("gw.yaml", app("gw-web", "1.0", 1, 8013)).toString());
        StringWriter out = new StringWriter();
        var cl = IntentCtl.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        int[] code = {-1};
        Thread watcher = new Thread(() -> code[0] = cl.execute("get", "apps", "gw-web", "--watch", "--watch-timeout",
                "12s", "--api=" + api.url(), "--token=" + VIEWER));
        watcher.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> out.toString().contains("gw-web"));
        ok("scale", "gw-web", "5");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> out.toString().lines()
                .anyMatch(l -> l.startsWith("gw-web") && l.matches(".*\\s5\\s.*")));
        ok("delete", "app", "gw-web");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15))
                .until(() -> out.toString().contains("app/gw-web deleted"));
        watcher.join(30_000);
        assertEquals(0, code[0], out.toString());
        assertEquals(1, out.toString().lines().filter(l -> l.startsWith("NAME")).count(), "one header:\n" + out);
    }

    @Test
    void contextsInTheConfigFileChooseTheApiAndToken() throws Exception {
        Path config = dir.resolve("ctx/config.yaml");
        Path token = file("viewer.token", VIEWER + "\n");
        Run set = raw("config", "set-context", "local", "--server", api.url(), "--token-path", token.toString(),
                "--config", config.toString());
        assertEquals(0, set.code(), set.err());
        assertEquals(0, raw("config", "set-context", "elsewhere", "--server", "http://127.0.0.1:1",
                "--config", config.toString()).code());
        assertEquals("local", raw("config", "current-context", "--config", config.toString()).out().strip());
        assertEquals(0, raw("get", "apps", "--config", config.toString()).code(), "the current context's API");
        Run other = raw("get", "apps", "--config", config.toString(), "--context", "elsewhere",
                "--request-timeout", "2s");
        assertEquals(1, other.code());
        assertTrue(other.err().contains("127.0.0.1:1"), other.err());
        assertEquals(0, raw("config", "use-context", "elsewhere", "--config", config.toString()).code());
        Run list = raw("config", "get-contexts", "--config", config.toString());
        assertTrue(list.out().lines().anyMatch(l -> l.startsWith("*") && l.contains("elsewhere")), list.out());
        Run flagWins = raw("get", "apps", "--config", config.toString(), "--api", api.url(), "--token", VIEWER);
        assertEquals(0, flagWins.code(), flagWins.err());
        Run unknown = raw("config", "use-context", "nope", "--config", config.toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("known: elsewhere, local"), unknown.err());
        Files.writeString(config, "current-context: local\ncontexts:\n  local: {api: \"" + api.url()
                + "\", tokn-file: x}\n");
        Run typo = raw("get", "apps", "--config", config.toString());
        assertEquals(1, typo.code());
        assertTrue(typo.err().contains("tokn-file"), typo.err());
    }

    @Test
    void exitCodesAreTheDocumentedOnes() {
        assertEquals(2, ctl(VIEWER, "get", "apps", "--no-such-option").code(), "unknown option");
        assertEquals(2, ctl(VIEWER, "frobnicate").code(), "unknown command");
        assertEquals(2, ctl(VIEWER, "get", "pods").code(), "unknown kind");
        Run badDuration = ctl(VIEWER, "status", "--wait", "--timeout", "5 minutes");
        assertEquals(2, badDuration.code());
        assertTrue(badDuration.err().contains("'5 minutes' is not a duration"), badDuration.err());
        Run badUrl = raw("get", "apps", "--api", "127.0.0.1:8080");
        assertEquals(2, badUrl.code());
        assertTrue(badUrl.err().contains("not an API URL"), badUrl.err());
        assertEquals(1, ctl(VIEWER, "get", "app", "no-such-app").code(), "the API's 404");
    }

    @Test
    void theVersionComesFromTheBuild() {
        Run r = raw("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().lines().findFirst().orElse("").matches("intentctl \\d+\\.\\d+\\.\\d+.*"), r.out());
    }

    @Test
    void bashCompletionCompletesCommandsKindsAndFormats() throws Exception {
        Run r = raw("completion", "bash");
        assertEquals(0, r.code());
        Path script = file("intentctl-completion.sh", r.out());
        assertEquals(r.out(), raw("completion", "zsh").out(), "one script serves bash and zsh");
        String probe = "source " + script + " 2>/dev/null\n"
                + "c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE};"
                + " _complete_intentctl 2>/dev/null; echo \"${COMPREPLY[*]}\"; }\n"
                + "c intentctl ge\nc intentctl get ''\nc intentctl get apps -o ''\nc intentctl config use-''\n";
        Process p = new ProcessBuilder("bash", "-c", probe).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        List<String> lines = out.lines().toList();
        assertEquals("get", lines.get(0), out);
        assertEquals("apps hosts status assignments leader endpoints", lines.get(1), out);
        assertEquals("table wide name json yaml", lines.get(2), out);
        assertEquals("use-context", lines.get(3), out);
    }

    @Test
    void restartRaisesTheRestartGenerationOfEveryInstanceOrOfOneHost() throws Exception {
        ok("apply", "-f", file("rs.yaml", app("rs-web", "1.0", 2, 8031)).toString());
        Run all = ok("restart", "rs-web");
        assertTrue(all.out().contains("app/rs-web restart requested for every instance"), all.out());
        assertEquals(1L, stored("rs-web").restart().generation());
        Run one = ok("restart", "rs-web", "--host", "h2");
        assertTrue(one.out().contains("app/rs-web restart requested on h2"), one.out());
        assertEquals(2, stored("rs-web").restart().generationFor("h2"));
        assertEquals(1, stored("rs-web").restart().generationFor("h1"));
        assertEquals("1.0", stored("rs-web").active(), "a restart changes no version");

        Run missing = ctl(OPERATOR, "restart", "rs-none");
        assertEquals(1, missing.code(), missing.out());
        assertTrue(missing.err().contains("not found"), missing.err());
        Run viewer = ctl(VIEWER, "restart", "rs-web");
        assertEquals(1, viewer.code(), viewer.out());
        assertTrue(viewer.err().contains("operator"), viewer.err());
        assertEquals(2, stored("rs-web").restart().generationFor("h2"), "refused restarts write nothing");
        assertEquals(2, ctl(OPERATOR, "restart").code(), "APP is required");
    }

    @Test
    void getEndpointsShowsTheLiveHealthyInstancesOfAnApp() throws Exception {
        ok("apply", "-f", file("ep.yaml", app("ep-web", "1.0", 2, 8032)).toString());
        var keys = store.keys();
        for (String h : List.of("ep-h1", "ep-h2")) {
            store.put(keys.live(h), new Liveness(h, "127.0.0.8", "test", 1, Instant.now()));
            store.put(keys.endpoint("ep-web", h), new io.intent.store.model.Endpoint("ep-web", h, "127.0.0.8",
                    "1.0", Map.of("http", 8032), Instant.now()));
        }
        store.put(keys.status("ep-h1", "ep-web", "setlive"), new AgentStatus("setlive", Phase.READY, "1.0", 1, null, 0,
                Instant.now(), null, Map.of()));
        // ep-h2 has started but is not healthy yet: no endpoint for it
        store.put(keys.status("ep-h2", "ep-web", "setlive"), new AgentStatus("setlive", Phase.PROGRESSING, "1.0", 1,
                null, 0, Instant.now(), null, Map.of()));

        Run table = ctl(VIEWER, "get", "endpoints", "ep-web");
        assertEquals(0, table.code(), table.err());
        List<String> lines = table.out().lines().toList();
        assertTrue(lines.get(0).matches("HOST\\s+ADDRESS\\s+PORTS\\s+VERSION\\s+SINCE"), table.out());
        assertEquals(2, lines.size(), table.out());
        assertTrue(lines.get(1).matches("ep-h1\\s+127\\.0\\.0\\.8\\s+http=8032\\s+1\\.0\\s+\\S+"), table.out());

        Run asJson = ctl(VIEWER, "get", "endpoints", "ep-web", "-o", "json");
        assertEquals(0, asJson.code(), asJson.err());
        var body = Json.tree(asJson.out().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(1, body.get("endpoints").size(), asJson.out());
        assertEquals("ep-h1", body.get("endpoints").get(0).get("host").asText());

        Run missing = ctl(VIEWER, "get", "endpoints", "ep-none");
        assertEquals(1, missing.code(), missing.out());
        assertTrue(missing.err().contains("not found"), missing.err());
        assertEquals(2, ctl(VIEWER, "get", "endpoints").code(), "the app is required");
    }
}
