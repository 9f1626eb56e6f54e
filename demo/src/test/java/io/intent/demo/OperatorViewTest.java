package io.intent.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.ApiServer;
import io.intent.api.Tokens;
import io.intent.cli.IntentCtl;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.Placement;
import io.intent.testkit.DemoApp;
import io.intent.testkit.Fleet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's view of running apps, on real components shared by every test: etcd, a leader JVM, three node
 * JVMs (runit), the API in this JVM and intentctl. An instance that stops passing its health check is restarted
 * in place and its status counts it; a crash-looping instance is moved to another host once per window; a
 * forced restart goes through every instance one at a time while the app keeps answering.
 */
class OperatorViewTest {
    static final String OPERATOR = "op-token-operator-view";

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    static Path work;
    static Fleet fleet;
    static EtcdStore store;
    static ApiServer api;

    @BeforeAll
    static void start() throws Exception {
        fleet = Fleet.start(work, 3, new Fleet.Timing(5, 30, 5), List.of());
        // the API starts once the node JVMs are up: four JVMs starting at once on a loaded machine starve it
        await().atMost(Duration.ofSeconds(120)).until(() -> fleet.etcdctl("get", "--prefix", "--keys-only",
                "/intent/live/").lines().filter(l -> !l.isBlank()).count() == 3);
        store = EtcdStore.connect(new EtcdConfig(List.of(fleet.endpoints().split(",")), null, null, null, null, null,
                null, EtcdConfig.DEFAULT_TIMEOUT));
        Path tokens = Files.writeString(work.resolve("tokens.yaml"),
                "- {name: op, role: operator, sha256: " + Tokens.hash(OPERATOR) + "}\n");
        api = ApiServer.start(store, Tokens.fromFile(tokens), ApiServer.Options.defaults().withPort(0));
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

    /** Writes an app of the demo app's kind with {@code etcdctl}: {@code extra} is more intent JSON fields. */
    static void put(String app, String script, int scale, int port, String extra) {
        Path tar = DemoApp.tarball(fleet.repo().resolve(app + ".tar.gz"), script);
        fleet.etcdctl("put", "/intent/apps/" + app, "{\"versions\":{\"1.0\":{\"artifact\":\"" + tar.toUri()
                + "\",\"sha256\":\"" + DemoApp.sha256(tar) + "\"}},\"active\":\"1.0\",\"run\":{\"command\":"
                + "[\"bin/server\"],\"env\":{\"DEMO_WWW\":\"" + work.resolve("www-" + app) + "\"}},"
                + "\"ports\":[{\"name\":\"http\",\"port\":" + port + "}],\"scale\":" + scale
                + ",\"resources\":{\"cpu\":0.1,\"memoryMb\":16}" + extra + "}");
    }

    static int index(String host) {
        return Integer.parseInt(host.substring(1)) - 1;
    }

    static Optional<AgentStatus> status(String host, String app) {
        return store.get(store.keys().status(host, app, "setlive"), AgentStatus.class).filter(e -> e.valid())
                .map(e -> e.value());
    }

    static int detail(String host, String app, String field) {
        Object v = status(host, app).map(AgentStatus::details).orElse(Map.of()).get(field);
        return v instanceof Number n ? n.intValue() : -1;
    }

    static Optional<Placement> placement(String app) {
        return store.get(store.keys().placement(app), Placement.class).filter(e -> e.valid()).map(e -> e.value());
    }

    static String only(String app) {
        await().atMost(Duration.ofSeconds(90)).until(() -> fleet.assigned(app).size() == 1);
        return fleet.assigned(app).iterator().next();
    }

    @Test
    void anInstanceWhoseHealthEndpointStartsFailingIsRestartedBySetliveAndItsRestartCountRises() throws Exception {
        int port = 18401;
        put("limp", DemoApp.serverScript(), 1, port, ",\"health\":{\"http\":\"/healthz\",\"port\":\"http\","
                + "\"timeoutSeconds\":3,\"intervalSeconds\":1,\"failureThreshold\":2}");
        String host = only("limp");
        int i = index(host);
        await().atMost(Duration.ofSeconds(90)).until(() -> fleet.answers(i, port) && detail(host, "limp", "restarts") == 0
                && status(host, "limp").map(s -> s.phase() == io.intent.store.model.Phase.READY).orElse(false));
        long pid = fleet.pid(i, "limp").orElseThrow();

        // the app keeps running, but its health endpoint answers 404 (the demo app writes it again when it starts)
        Files.delete(work.resolve("www-limp/healthz"));

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                detail(host, "limp", "restarts") == 1 && detail(host, "limp", "livenessRestarts") == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> fleet.answers(i, port)
                && status(host, "limp").map(s -> s.phase() == io.intent.store.model.Phase.READY).orElse(false));
        assertNotEquals(pid, fleet.pid(i, "limp").orElseThrow(), "restarted in place: a new process");
        assertEquals(host, only("limp"), "a liveness restart does not move the instance");
        // the operator sees the same count through the API
        var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(api.url() + "/v1/status/apps/limp")).header("Authorization", "Bearer " + OPERATOR)
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().replace(" ", "").contains("\"livenessRestarts\":1"), r.body());
        fleet.etcdctl("del", "/intent/apps/limp");
    }

    @Test
    void aCrashLoopingInstanceIsMovedToAnotherHostOnceAndNotAgainWithinTheWindow() throws Exception {
        int port = 18402;
        int window = 20;
        // healthy at once, then the server exits after 3 s, again and again: runsv brings it back each time
        String crashing = DemoApp.serverScript().replace("exec \"$busybox\" httpd",
                "exec \"$busybox\" timeout 3 \"$busybox\" httpd");
        assertNotEquals(DemoApp.serverScript(), crashing);
        put("flaky", crashing, 1, port, ",\"health\":{\"http\":\"/healthz\",\"port\":\"http\",\"timeoutSeconds\":3,"
                + "\"intervalSeconds\":1,\"failureThreshold\":2},\"reschedule\":{\"afterFailures\":2,"
                + "\"windowSeconds\":" + window + "}");
        String first = only("flaky");

        // every 50 ms: which hosts are assigned the app, and which of them setlive reports READY
        List<Map<String, Boolean>> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                Map<String, Boolean> now = new java.util.TreeMap<>();
                for (int i = 0; i < fleet.size(); i++) {
                    String h = fleet.host(i);
                    if (store.get(store.keys().assignment(h, "flaky"), io.intent.store.model.Assignment.class)
                            .isPresent()) {
                        now.put(h, status(h, "flaky").map(st -> st.phase() == io.intent.store.model.Phase.READY)
                                .orElse(false));
                    }
                }
                seen.add(now);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        Placement.Rescheduled move;
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
                    placement("flaky").map(Placement::rescheduled).isPresent());
            move = placement("flaky").orElseThrow().rescheduled();
            assertEquals(first, move.from());
            assertNotEquals(first, move.to());
            String to = move.to();
            await().atMost(Duration.ofSeconds(30)).until(() -> fleet.assigned("flaky").equals(java.util.Set.of(to)));
        } finally {
            watching.set(false);
            watcher.join();
        }
        // replace before remove: the sick instance kept its assignment until its replacement was READY
        int both = -1;
        for (int k = 0; k < seen.size() && both < 0; k++) {
            if (seen.get(k).containsKey(first) && seen.get(k).containsKey(move.to())) {
                both = k;
            }
        }
        assertTrue(both >= 0, "never assigned on both hosts at once: " + seen);
        boolean readyBeforeRemoval = false;
        for (int k = both; k < seen.size() && seen.get(k).containsKey(first); k++) {
            readyBeforeRemoval |= seen.get(k).getOrDefault(move.to(), false);
        }
        assertTrue(readyBeforeRemoval, "removed from " + first + " before " + move.to() + " was READY: " + seen);

        // it keeps crashing on its new host and turns sick there too, but the window holds it
        await().atMost(Duration.ofSeconds(window)).until(() -> status(move.to(), "flaky")
                .map(s -> Boolean.TRUE.equals(s.details().get("sick"))).orElse(false));
        Duration left = Duration.between(Instant.now(), move.at().plusSeconds(window)).minusSeconds(2);
        if (!left.isNegative() && !left.isZero()) {
            await().during(left).atMost(left.plusSeconds(5)).until(() ->
                    fleet.assigned("flaky").equals(java.util.Set.of(move.to()))
                            && sameMove(move, placement("flaky").orElseThrow().rescheduled()));
        }
        fleet.etcdctl("del", "/intent/apps/flaky");
    }

    /** The same move (its {@code leaving} flag goes once the sick instance has left its host). */
    static boolean sameMove(Placement.Rescheduled a, Placement.Rescheduled b) {
        return b != null && a.from().equals(b.from()) && a.to().equals(b.to()) && a.at().equals(b.at());
    }

    @Test
    void intentctlRestartRestartsEveryInstanceOneAtATimeWhileTheAppKeepsAnswering() throws Exception {
        int port = 18403;
        put("steady", DemoApp.serverScript(), 3, port, ",\"health\":{\"http\":\"/healthz\",\"port\":\"http\"},"
                + "\"maxUnavailable\":1");
        await().atMost(Duration.ofSeconds(90)).until(() -> fleet.assigned("steady").size() == 3
                && fleet.answers(0, port) && fleet.answers(1, port) && fleet.answers(2, port));
        Map<Integer, Long> before = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            before.put(i, fleet.pid(i, "steady").orElseThrow());
        }

        // a client asks every host every 20 ms, and notes which hosts fail to answer and which pids run
        AtomicBoolean polling = new AtomicBoolean(true);
        List<String> mostDownAtOnce = new ArrayList<>();
        List<int[]> rounds = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread poller = new Thread(() -> {
            while (polling.get()) {
                int down = 0;
                int[] changed = new int[3];
                for (int i = 0; i < 3; i++) {
                    if (!fleet.answers(i, port)) {
                        down++;
                    }
                    changed[i] = fleet.pid(i, "steady").map(p -> p.equals(before.get(0)) || p.equals(before.get(1))
                            || p.equals(before.get(2)) ? 0 : 1).orElse(2);
                }
                rounds.add(new int[] {down, changed[0], changed[1], changed[2]});
                if (down > 1) {
                    mostDownAtOnce.add(down + " hosts down at " + Instant.now());
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        poller.start();
        try {
            StringWriter out = new StringWriter();
            var cl = IntentCtl.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(out, true));
            assertEquals(0, cl.execute("--api", api.url(), "--token", OPERATOR, "restart", "steady"), out.toString());
            assertTrue(out.toString().contains("restart requested for every instance"), out.toString());

            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                for (int i = 0; i < 3; i++) {
                    Optional<Long> p = fleet.pid(i, "steady");
                    if (p.isEmpty() || p.get().equals(before.get(i)) || !fleet.answers(i, port)) {
                        return false;
                    }
                }
                return true;
            });
        } finally {
            polling.set(false);
            poller.join();
        }
        assertTrue(mostDownAtOnce.isEmpty(), "maxUnavailable 1 was exceeded: " + mostDownAtOnce);
        // pids changed one at a time: no round saw two hosts between their old and their new process at once
        int changes = 0;
        int[] last = {0, 0, 0};
        for (int[] r : rounds) {
            int inFlight = 0;
            for (int i = 0; i < 3; i++) {
                if (r[1 + i] == 2) {
                    inFlight++;
                }
                if (r[1 + i] == 1 && last[i] != 1) {
                    changes++;
                }
                last[i] = r[1 + i] == 2 ? last[i] : r[1 + i];
            }
            assertTrue(inFlight <= 1, "two instances restarting at once");
        }
        assertEquals(3, changes, "each instance restarted once");
        // and the hosts restarted one after another: every new pid appears only after the previous host is back
        List<Integer> order = new ArrayList<>();
        for (int[] r : rounds) {
            for (int i = 0; i < 3; i++) {
                if (r[1 + i] == 1 && !order.contains(i)) {
                    order.add(i);
                }
            }
        }
        assertEquals(3, order.size(), "every host's new process was seen: " + order);
        fleet.etcdctl("del", "/intent/apps/steady");
    }
}
