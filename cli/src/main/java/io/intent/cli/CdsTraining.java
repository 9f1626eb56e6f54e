package io.intent.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The training run behind intentctl's class-data sharing archive ({@code ./intent install} and {@code ./intent ctl}
 * run it once with {@code -XX:ArchiveClassesAtExit}): the usual commands against a stand-in API on a loopback
 * port, so the classes a real call loads (picocli, HttpURLConnection, Jackson's parser and tree, YAML) are in the archive.
 */
public final class CdsTraining {
    private static final Map<String, String> ANSWERS = Map.of(
            "/v1/status", "{\"revision\":7,\"converged\":true,\"apps\":[{\"app\":\"web\",\"state\":\"OK\",\"ready\":1,"
                    + "\"wanted\":1,\"active\":\"1.0\",\"converged\":true,\"hosts\":[{\"host\":\"h1\",\"state\":\"OK\","
                    + "\"version\":\"1.0\",\"placed\":true,\"agents\":[{\"agent\":\"setlive\",\"state\":\"OK\"}]}]}]}",
            "/v1/apps", "{\"revision\":7,\"apps\":[{\"name\":\"web\",\"revision\":5,\"intent\":{\"versions\":{\"1.0\":"
                    + "{\"artifact\":\"file:///a.tgz\",\"sha256\":\"" + "a".repeat(64) + "\"}},\"active\":\"1.0\","
                    + "\"ports\":[{\"name\":\"http\",\"port\":8080}],\"scale\":1}}]}",
            "/v1/hosts", "{\"revision\":7,\"hosts\":[{\"name\":\"h1\",\"revision\":3,\"spec\":{\"labels\":{\"zone\":\"a\"}},"
                    + "\"live\":{\"host\":\"h1\",\"agent\":\"node\",\"pid\":1,\"since\":\"2026-01-01T00:00:00Z\"}}]}");

    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            String body = ANSWERS.getOrDefault(ex.getRequestURI().getPath(),
                    "{\"error\":{\"code\":\"not_found\",\"message\":\"not found\",\"requestId\":\"t\"}}");
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(ANSWERS.containsKey(ex.getRequestURI().getPath()) ? 200 : 404, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        String api = "--api=http://127.0.0.1:" + server.getAddress().getPort();
        try {
            String[][] runs = {{"get", "status"}, {"get", "apps"}, {"get", "hosts", "-o", "wide"},
                {"get", "apps", "-o", "yaml"}, {"status"}, {"get", "app", "nope"}, {"--help"}};
            for (String[] run : runs) {
                var cl = IntentCtl.commandLine(run);
                cl.setOut(new PrintWriter(new StringWriter()));
                cl.setErr(new PrintWriter(new StringWriter()));
                String[] all = java.util.Arrays.copyOf(run, run.length + 2);
                all[run.length] = api;
                all[run.length + 1] = "--token=training";
                cl.execute(all);
            }
        } finally {
            server.stop(0);
        }
    }
}
