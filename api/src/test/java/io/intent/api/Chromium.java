package io.intent.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.intent.store.codec.Json;
import io.intent.testkit.Prerequisites;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real headless Chromium (Debian's {@code chromium}) driven over the DevTools protocol with the JDK's own
 * WebSocket client: navigate, evaluate JavaScript, click with real mouse events, type, take screenshots.
 */
final class Chromium implements AutoCloseable {
    /** Not the store's strict mapper: screenshots arrive as multi-megabyte base64 strings. */
    private static final com.fasterxml.jackson.databind.ObjectMapper DEVTOOLS =
            new com.fasterxml.jackson.databind.ObjectMapper();
    private final Process process;
    private final Path profile;
    private final HttpClient http = HttpClient.newHttpClient();
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private Chromium(Process process, Path profile, String pageSocket) throws Exception {
        this.process = process;
        this.profile = profile;
        this.socket = http.newWebSocketBuilder().buildAsync(URI.create(pageSocket), new Listener())
                .get(20, TimeUnit.SECONDS);
    }

    /** Starts a fresh browser with its own profile; fails with the install instruction when chromium is missing. */
    static Chromium start() throws Exception {
        return start(java.util.List.of());
    }

    /** As {@link #start()} with extra command-line flags. */
    static Chromium start(java.util.List<String> flags) throws Exception {
        Path bin = Prerequisites.find("chromium").orElseThrow(() -> new AssertionError(
                "chromium is not installed: the web page test drives a real headless Chromium. Install it with "
                        + "`apt-get install -y chromium` (it belongs in ./intent's prerequisites list)."));
        Path profile = Files.createTempDirectory("intent-chromium");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(bin.toString(), "--headless",
                "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + profile,
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"));
        cmd.addAll(flags);
        cmd.add("about:blank");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("chromium did not start: " + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(100);
            }
            int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
            HttpClient c = HttpClient.newHttpClient();
            String ws = null;
            while (ws == null && System.nanoTime() < deadline) {
                var r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                        HttpResponse.BodyHandlers.ofString());
                for (JsonNode t : Json.tree(r.body().getBytes(StandardCharsets.UTF_8))) {
                    if (t.path("type").asText().equals("page")) {
                        ws = t.path("webSocketDebuggerUrl").asText();
                        break;
                    }
                }
                if (ws == null) {
                    Thread.sleep(100);
                }
            }
            if (ws == null) {
                throw new AssertionError("chromium has no page target");
            }
            return new Chromium(p, profile, ws);
        } catch (Exception | Error e) {
            kill(p);
            throw e;
        }
    }

    /** Sends one DevTools command and waits for its result. */
    JsonNode send(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        ObjectNode msg = Json.mapper().createObjectNode().put("id", id).put("method", method);
        msg.set("params", Json.mapper().valueToTree(params));
        socket.sendText(msg.toString(), true).get(10, TimeUnit.SECONDS);
        JsonNode r = f.get(30, TimeUnit.SECONDS);
        if (r.has("error")) {
            throw new IllegalStateException(method + ": " + r.get("error"));
        }
        return r.path("result");
    }

    void navigate(String url) throws Exception {
        send("Page.enable", Map.of());
        send("Page.navigate", Map.of("url", url));
        waitFor("document.readyState === 'complete'", Duration.ofSeconds(20));
    }

    /** Evaluates an expression (promises awaited) and returns its value. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "awaitPromise", true,
                "returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("page threw: " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** Polls {@code condition} in the page until it is true. */
    void waitFor(String condition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode v = eval("(() => { try { return !!(" + condition + "); } catch (e) { return false; } })()");
            if (v.asBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("page never satisfied: " + condition + "\nbody: "
                        + eval("document.body.innerText").asText());
            }
            Thread.sleep(100);
        }
    }

    /** Clicks the centre of the element matching {@code selector} with real mouse events. */
    void click(String selector) throws Exception {
        // the page re-renders live: only click once the element is really what is under the pointer
        JsonNode box = null;
        for (int i = 0; i < 50; i++) {
            box = eval("(() => { const e = document.querySelector(" + quote(selector) + "); if (!e) return null;"
                    + " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                    + " const x = r.x + r.width / 2, y = r.y + r.height / 2; const hit = document.elementFromPoint(x, y);"
                    + " return hit && (hit === e || e.contains(hit)) ? {x, y} : null; })()");
            if (!box.isNull() && !box.isMissingNode()) {
                break;
            }
            Thread.sleep(100);
        }
        if (box == null || box.isNull() || box.isMissingNode()) {
            throw new AssertionError("no clickable element " + selector);
        }
        double x = box.path("x").asDouble();
        double y = box.path("y").asDouble();
        send("Input.dispatchMouseEvent", Map.of("type", "mouseMoved", "x", x, "y", y));
        send("Input.dispatchMouseEvent", Map.of("type", "mousePressed", "x", x, "y", y, "button", "left",
                "clickCount", 1));
        send("Input.dispatchMouseEvent", Map.of("type", "mouseReleased", "x", x, "y", y, "button", "left",
                "clickCount", 1));
    }

    /** Clicks into a field and types {@code text} as keyboard input. */
    void type(String selector, String text) throws Exception {
        click(selector);
        send("Input.insertText", Map.of("text", text));
    }

    /** Replaces the content of a field with {@code text}, typed as keyboard input. */
    void retype(String selector, String text) throws Exception {
        click(selector);
        eval("document.querySelector(" + quote(selector) + ").select()");
        send("Input.insertText", Map.of("text", text));
    }

    /** Picks an option of a select as a user would: value set, change event fired. */
    void choose(String selector, String value) throws Exception {
        eval("(() => { const s = document.querySelector(" + quote(selector) + "); s.focus(); s.value = " + quote(value)
                + "; s.dispatchEvent(new Event('input', {bubbles: true}));"
                + " s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()");
    }

    String text(String selector) throws Exception {
        return eval("(() => { const e = document.querySelector(" + quote(selector) + "); return e ? e.textContent : null; })()")
                .asText(null);
    }

    void screenshot(Path file) throws Exception {
        JsonNode r = send("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(r.path("data").asText()));
    }

    static String quote(String s) {
        return Json.writeString(s);
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JsonNode msg;
                try {
                    msg = DEVTOOLS.readTree(partial.toString());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                partial.setLength(0);
                if (msg.has("id")) {
                    var f = pending.remove(msg.get("id").asInt());
                    if (f != null) {
                        f.complete(msg);
                    }
                }
            }
            ws.request(1);
            return null;
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            socket.abort();
        } finally {
            kill(process);
            try (var walk = Files.walk(profile)) {
                walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
