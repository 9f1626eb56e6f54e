package io.intent.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.ApiServer;
import io.intent.api.Tokens;
import io.intent.cli.IntentCtl;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.daemon.logs.LogSigning;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Fleet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logs from anywhere, on real components: two node JVMs whose setlive runs a chatty app under runit with svlogd
 * (4 KiB files, 2 kept), the API in this JVM signing its requests to each node, and intentctl following.
 */
class LogsTest {
    static final int NODE_PORT = 19471;
    static final long MAX_BYTES = 4096;
    static final int FILES = 2;
    static final String OPERATOR = "op-token-logs";
    static final String VIEWER = "viewer-token-logs";
    static final String CHATTY = "#!/bin/sh\n"
            + "i=0\n"
            + "while :; do i=$((i+1)); echo \"line $i of $INTENT_APP on $INTENT_HOST\"; sleep 0.01; done\n";

    // kept when a test fails: the node and leader logs under logs/ tell why
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    static Path work;
    static Fleet fleet;
    static EtcdStore store;
    static ApiServer api;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        String master = "master-key-for-the-logs-test-0123456789abcdef";
        Path masterFile = Files.writeString(work.resolve("logs-master.key"), master + "\n");
        for (String h : List.of("h1", "h2")) {
            Files.writeString(work.resolve(h + ".key"), LogSigning.hostKey(master, h) + "\n");
        }
        fleet = Fleet.start(work, 2, new Fleet.Timing(5, 30, 5), List.of(), i -> List.of(
                "--http-address", "127.0.0." + (11 + i), "--http-port", Integer.toString(NODE_PORT),
                "--logs-key-file", work.resolve("h" + (i + 1) + ".key").toString(),
                "--log-max-bytes", Long.toString(MAX_BYTES), "--log-files", Integer.toString(FILES)));
        store = EtcdStore.connect(new EtcdConfig(List.of(fleet.endpoints().split(",")), null, null, null, null, null,
                null, EtcdConfig.DEFAULT_TIMEOUT));
        Path tokens = Files.writeString(work.resolve("tokens.yaml"),
                "- {name: op, role: operator, sha256: " + Tokens.hash(OPERATOR) + "}\n"
                        + "- {name: view, role: viewer, sha256: " + Tokens.hash(VIEWER) + "}\n");
        api = ApiServer.start(store, Tokens.fromFile(tokens), ApiServer.Options.defaults().withPort(0),
                LogSigning.readKey("--logs-key-file", masterFile), NODE_PORT, false);
    }

    @AfterAll
    static void stop() {
        if (api != null) {
            api.close();
        }
        if (store != null) {
            store.close();
        }
        if (fleet != null) {
            fleet.close();
            for (int i = 0; i < fleet.size(); i++) {
                // the apps and the runsvdir each node started outlive the node JVMs: setlive's own shutdown
                try {
                    io.intent.setlive.Runsvdir.shutdown(fleet.root(i).resolve("services"),
                            fleet.root(i).resolve("setlive"), Duration.ofSeconds(5));
                } catch (Exception e) {
                    System.err.println("cleanup of " + fleet.root(i) + ": " + e);
                }
            }
        }
    }

    static void deploy(String app, int scale) {
        Path tar = DemoApp.tarball(fleet.repo().resolve(app + ".tar.gz"), CHATTY);
        fleet.etcdctl("put", "/intent/apps/" + app, "{\"versions\":{\"1.0\":{\"artifact\":\"" + tar.toUri()
                + "\",\"sha256\":\"" + DemoApp.sha256(tar) + "\"}},\"active\":\"1.0\",\"run\":{\"command\":"
                + "[\"bin/server\"]},\"scale\":" + scale + ",\"resources\":{\"cpu\":0.1,\"memoryMb\":16}}");
    }

    static HttpResponse<String> get(String path, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(api.url() + path)).header("Authorization", "Bearer "
                + token).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void intentctlFollowsAnAppOnTwoHostsWhileItWritesAndEndsWhenTheInstancesLeave() throws Exception {
        deploy("chatty", 2);
        await().atMost(Duration.ofSeconds(90)).until(() -> fleet.pid(0, "chatty").isPresent()
                && fleet.pid(1, "chatty").isPresent());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = IntentCtl.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        CompletableFuture<Integer> ctl = CompletableFuture.supplyAsync(() -> cl.execute("--api", api.url(),
                "--token", OPERATOR, "logs", "chatty", "--tail", "5", "-f"));
        // lines from both hosts, each prefixed by its host, keep coming: the app writes while we follow
        await().atMost(Duration.ofSeconds(30)).until(() -> lastLine(out.toString(), "h1") > 0
                && lastLine(out.toString(), "h2") > 0);
        int h1 = lastLine(out.toString(), "h1");
        await().atMost(Duration.ofSeconds(30)).until(() -> lastLine(out.toString(), "h1") > h1 + 300);
        // svlogd rotated meanwhile (4 KiB files), and following lost no line across the rotations
        for (String host : List.of("h1", "h2")) {
            List<Integer> seen = numbers(out.toString(), host);
            for (int k = 1; k < seen.size(); k++) {
                assertEquals(seen.get(k - 1) + 1, seen.get(k), host + ": a line went missing in " + seen);
            }
        }
        assertTrue(Files.list(fleet.root(0).resolve("setlive/logs/chatty")).anyMatch(p -> p.getFileName()
                .toString().startsWith("@")), "rotated at least once");

        // the instances leave both hosts: the stream ends by itself, cleanly
        fleet.etcdctl("del", "/intent/apps/chatty");
        assertEquals(0, ctl.get(60, java.util.concurrent.TimeUnit.SECONDS), err.toString());
    }

    @Test
    void rotationKeepsAChattyAppWithinItsConfiguredSize() throws Exception {
        deploy("noisy", 1);
        await().atMost(Duration.ofSeconds(90)).until(() -> fleet.assigned("noisy").size() == 1);
        int i = fleet.assigned("noisy").contains("h1") ? 0 : 1;
        Path dir = fleet.root(i).resolve("setlive/logs/noisy");
        // several rotations: more files were made than are kept
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.isDirectory(dir) && size(dir) > MAX_BYTES * 2);
        long limit = (FILES + 1) * MAX_BYTES + 1024;
        await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(20)).until(() -> size(dir) <= limit
                && rotatedFiles(dir) <= FILES);
        // and what is kept is still readable: the last lines through the API
        HttpResponse<String> r = get("/v1/apps/noisy/logs?tail=3", OPERATOR);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(3, r.body().lines().count(), r.body());
        assertTrue(r.body().lines().allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\d_\\S+ line \\d+ of noisy on h\\d")),
                r.body());
        fleet.etcdctl("del", "/intent/apps/noisy");
    }

    @Test
    void badRequestsGetClearAnswersAndAHostsLogEndpointWantsTheApisSignature() throws Exception {
        fleet.etcdctl("put", "/intent/hosts/h1", "{\"address\":\"127.0.0.11\"}");
        HttpResponse<String> r = get("/v1/apps/nosuch/logs", OPERATOR);
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(r.body().contains("no app 'nosuch'"), r.body());

        deploy("quiet", 1);
        await().atMost(Duration.ofSeconds(90)).until(() -> fleet.assigned("quiet").size() == 1);
        String on = fleet.assigned("quiet").iterator().next();
        r = get("/v1/apps/quiet/logs?host=h9", OPERATOR);
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(r.body().contains("no host 'h9'") && r.body().contains("it runs on " + on), r.body());

        r = get("/v1/apps/quiet/logs?tail=lots", OPERATOR);
        assertEquals(400, r.statusCode(), r.body());
        // viewers may not read logs unless the API allows it (--logs-for-viewers)
        r = get("/v1/apps/quiet/logs", VIEWER);
        assertEquals(403, r.statusCode(), r.body());

        // the node's own endpoint: nothing without the API's signature, nothing with a forged one
        String node = "http://127.0.0." + (on.equals("h1") ? 11 : 12) + ":" + NODE_PORT + "/v1/logs/quiet?tail=5";
        HttpResponse<String> direct = HTTP.send(HttpRequest.newBuilder(URI.create(node)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, direct.statusCode(), direct.body());
        long exp = System.currentTimeMillis() / 1000 + 30;
        String forged = LogSigning.sign(LogSigning.hostKey("some-other-master-key-0123456789abcdef", on), on, "GET",
                "/v1/logs/quiet?tail=5", exp);
        direct = HTTP.send(HttpRequest.newBuilder(URI.create(node)).header("Authorization", forged)
                .header(LogSigning.EXPIRES_HEADER, Long.toString(exp)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, direct.statusCode(), direct.body());
        await().atMost(Duration.ofSeconds(30)).until(() -> get("/v1/apps/quiet/logs?tail=5", OPERATOR).body()
                .contains("of quiet on " + on));
        fleet.etcdctl("del", "/intent/apps/quiet");
    }

    private static final Pattern LINE = Pattern.compile("^(h\\d) \\| \\S+ line (\\d+) of chatty on h\\d$",
            Pattern.MULTILINE);

    static List<Integer> numbers(String out, String host) {
        List<Integer> n = new java.util.ArrayList<>();
        Matcher m = LINE.matcher(out);
        while (m.find()) {
            if (m.group(1).equals(host)) {
                n.add(Integer.parseInt(m.group(2)));
            }
        }
        return n;
    }

    static int lastLine(String out, String host) {
        List<Integer> n = numbers(out, host);
        return n.isEmpty() ? 0 : n.get(n.size() - 1);
    }

    static long size(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            long total = 0;
            for (Path p : s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("lock"))
                    .toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    static long rotatedFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("@")).count();
        }
    }
}
