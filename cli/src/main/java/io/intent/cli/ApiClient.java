package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

/**
 * The API as the CLI uses it: JSON requests with the bearer token, answers decoded, errors turned into a
 * {@link CtlException} carrying the API's message and field errors. Writes carry an Idempotency-Key, so the
 * retries after a lost connection or a 503 cannot apply a change twice. Built on {@link HttpURLConnection}: a call
 * is one request from a fresh JVM, and java.net.http's client costs a selector thread and TLS set-up even for http.
 * (Over 300 lines: requests, retries, streams and their error messages share one vocabulary, kept in one place.)
 */
final class ApiClient {
    /** The longest silence an event stream may have: three of the API's 15 s heartbeats. */
    private static final Duration STREAM_SILENCE = Duration.ofSeconds(45);
    /** An answer: status, decoded body (null when empty), and the ETag if any. */
    record Response(int status, JsonNode body, String etag) {
    }

    private final String base;
    private final String token;
    private final SSLContext ssl;
    private final Duration timeout;

    ApiClient(String base, String token, Duration timeout) {
        this(base, token, timeout, null);
    }

    /** With {@code ssl} (null: the JDK's default trust) for an https base URL. */
    ApiClient(String base, String token, Duration timeout, SSLContext ssl) {
        String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        try {
            URI.create(b);
        } catch (IllegalArgumentException e) {
            throw new CtlException(2, "--api '" + base + "' is not a URL: " + e.getMessage());
        }
        this.base = b;
        this.token = token;
        this.timeout = timeout;
        this.ssl = ssl;
    }

    /**
     * GETs a paged list ({@code limit}/{@code continue}, every page at the first page's revision) and returns the
     * first page's body with the {@code lists} arrays of every later page appended, {@code continue} removed.
     */
    JsonNode getAllPages(String path, String... lists) {
        JsonNode first = get(path).body();
        if (!(first instanceof com.fasterxml.jackson.databind.node.ObjectNode all)) {
            return first;
        }
        JsonNode page = first;
        while (page.hasNonNull("continue")) {
            String sep = path.contains("?") ? "&" : "?";
            page = get(path + sep + "continue=" + enc(page.get("continue").asText())).body();
            for (String list : lists) {
                if (all.get(list) instanceof com.fasterxml.jackson.databind.node.ArrayNode into) {
                    page.path(list).forEach(into::add);
                }
            }
        }
        all.remove("continue");
        return all;
    }

    Response get(String path) {
        return send("GET", path, null, null, true);
    }

    /** GET that answers null on 404 instead of failing. */
    Response find(String path) {
        Response r = send("GET", path, null, null, false);
        if (r.status() == 404) {
            return null;
        }
        check(r);
        return r;
    }

    Response put(String path, Object body, String ifMatch) {
        return send("PUT", path, body, ifMatch, true);
    }

    Response post(String path, Object body) {
        return send("POST", path, body, null, true);
    }

    Response delete(String path, String ifMatch) {
        return send("DELETE", path, null, ifMatch, true);
    }

    private Response send(String method, String path, Object body, String ifMatch, boolean failOnError) {
        byte[] bytes = body == null ? new byte[0] : Json.write(body);
        String idempotencyKey = method.equals("GET") ? null : UUID.randomUUID().toString();
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                HttpURLConnection c = request(method, path, bytes, idempotencyKey, ifMatch);
                int status = c.getResponseCode();
                byte[] answer = readBody(c, status);
                if (status == 503 && attempts < 4) {
                    sleep(attempts);
                    continue;
                }
                Response resp = new Response(status, json(method, path, status, answer), c.getHeaderField("ETag"));
                if (failOnError) {
                    check(resp);
                }
                return resp;
            } catch (SSLHandshakeException e) {
                // not retried: an untrusted certificate stays untrusted
                throw untrusted(e);
            } catch (java.net.UnknownHostException e) {
                throw unreachable(e); // a name that does not resolve will not resolve on a retry
            } catch (ConnectException | java.net.NoRouteToHostException e) {
                if (attempts < 3) {
                    sleep(attempts);
                    continue;
                }
                throw unreachable(e);
            } catch (IOException e) {
                if (attempts < 3 && idempotencyKey != null) {
                    sleep(attempts);
                    continue;
                }
                throw new CtlException(1, method + " " + base + path + " failed: " + e);
            }
        }
    }

    /** Sends one attempt of a request: its headers, and its JSON body if any. */
    private HttpURLConnection request(String method, String path, byte[] body, String idempotencyKey, String ifMatch)
            throws IOException {
        HttpURLConnection c = open(path, "application/json", timeout);
        c.setRequestMethod(method);
        if (idempotencyKey != null) {
            c.setRequestProperty("Idempotency-Key", idempotencyKey);
        }
        if (ifMatch != null) {
            c.setRequestProperty("If-Match", ifMatch);
        }
        if (body.length > 0) {
            c.setRequestProperty("Content-Type", "application/json");
            // buffered, not streamed: in streaming mode the JDK turns a 401 into an HttpRetryException and the
            // API's answer (why, and which token to set) is lost; bodies are small JSON
            c.setDoOutput(true);
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
        }
        return c;
    }

    /** An answer's body as a JSON tree (null when empty); a clear error when it is not JSON. */
    private JsonNode json(String method, String path, int status, byte[] answer) {
        if (answer.length == 0) {
            return null;
        }
        try {
            return Trees.read(answer);
        } catch (IOException e) {
            throw new CtlException(1, method + " " + path + ": the API answered HTTP " + status
                    + " with a body that is not JSON; is --api " + base + " the intent API?");
        }
    }

    /**
     * A connection to {@code path} with the bearer token; {@code readTimeout} zero for a stream that has no end.
     * TLS is set up only for an https base URL, and with the {@code --cacert} context only when one was given.
     */
    private HttpURLConnection open(String path, String accept, Duration readTimeout) throws IOException {
        URL url;
        try {
            url = new URL(base + path);
        } catch (java.net.MalformedURLException e) {
            throw new CtlException(2, "'" + base + path + "' is not a URL: " + e.getMessage());
        }
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        if (ssl != null && c instanceof javax.net.ssl.HttpsURLConnection https) {
            https.setSSLSocketFactory(ssl.getSocketFactory());
        }
        c.setConnectTimeout(timeoutMillis(timeout));
        c.setReadTimeout(timeoutMillis(readTimeout));
        c.setUseCaches(false);
        c.setInstanceFollowRedirects(false);
        c.setRequestProperty("Accept", accept);
        if (token != null && !token.isBlank()) {
            c.setRequestProperty("Authorization", "Bearer " + token.strip());
        }
        return c;
    }

    private static int timeoutMillis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, d.toMillis()));
    }

    /** The whole body of an answer, the error stream's for an error status (empty when there is none). */
    private static byte[] readBody(HttpURLConnection c, int status) throws IOException {
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            return in == null ? new byte[0] : in.readAllBytes();
        }
    }

    /** Fails with the API's message (else the status) for a stream's request that was not answered 200. */
    private static void failUnlessOk(HttpURLConnection c, String path, int status) throws IOException {
        if (status == 200) {
            return;
        }
        byte[] body = readBody(c, status);
        JsonNode json = null;
        try {
            json = body.length == 0 ? null : Trees.read(body);
        } catch (IOException e) {
            throw new CtlException(1, "GET " + path + ": HTTP " + status);
        }
        check(new Response(status, json, null));
        throw new CtlException(1, "GET " + path + ": HTTP " + status);
    }

    private CtlException untrusted(SSLHandshakeException e) {
        return new CtlException(1, "the API's TLS certificate at " + base + " is not trusted or does not "
                + "match its address (" + e.getMessage() + "); if a private CA signed it, pass --cacert FILE "
                + "(or set INTENT_CACERT) with that CA's certificate");
    }

    private CtlException unreachable(IOException e) {
        return new CtlException(1, "cannot reach the API at " + base + " (" + e.getClass().getSimpleName()
                + "); set --api or INTENT_API");
    }

    private static void sleep(int attempt) {
        try {
            Thread.sleep(200L * attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Fails with the API's own error message and every field error it listed. */
    static void check(Response r) {
        if (r.status() < 400) {
            return;
        }
        JsonNode err = r.body() == null ? null : r.body().get("error");
        if (err == null) {
            throw new CtlException(1, "HTTP " + r.status());
        }
        StringBuilder sb = new StringBuilder(err.path("message").asText("HTTP " + r.status()));
        for (JsonNode d : err.path("details")) {
            String field = d.path("field").asText();
            sb.append("\n  ").append(field.isEmpty() ? "" : field + ": ").append(d.path("reason").asText());
        }
        if (r.status() == 401) {
            sb.append("\n(set --token, --token-file or INTENT_TOKEN)");
        }
        sb.append("\n(requestId ").append(err.path("requestId").asText()).append(")");
        throw new CtlException(1, sb.toString());
    }

    /**
     * GETs {@code path} and copies its body to {@code out} as it arrives (a followed log has no end and no
     * request timeout); an error answer fails with the API's message.
     */
    void stream(String path, java.io.OutputStream out) {
        try {
            HttpURLConnection c = open(path, "text/plain", Duration.ZERO);
            failUnlessOk(c, path, c.getResponseCode());
            try (InputStream in = c.getInputStream()) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    if (in.available() == 0) {
                        out.flush();
                    }
                }
                out.flush();
            }
        } catch (IOException e) {
            throw getFailed(path, e);
        }
    }

    /** What a failed GET of a stream means to the operator: untrusted, unreachable, or the error itself. */
    private CtlException getFailed(String path, IOException e) {
        if (e instanceof SSLHandshakeException ssl) {
            return untrusted(ssl);
        }
        if (e instanceof ConnectException || e instanceof java.net.UnknownHostException
                || e instanceof java.net.NoRouteToHostException) {
            return unreachable(e);
        }
        return new CtlException(1, "GET " + base + path + " failed: " + e);
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Fails with exit code 2 unless {@code url} is an absolute http(s) URL. */
    static void checkUrl(String url) {
        try {
            URI u = URI.create(url);
            if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                    || u.getHost() == null) {
                throw new IllegalArgumentException("expected http://HOST:PORT or https://HOST:PORT");
            }
        } catch (IllegalArgumentException e) {
            throw new CtlException(2, "'" + url + "' is not an API URL: " + e.getMessage());
        }
    }

    /**
     * Follows {@code GET /v1/events[?prefix=P]}: returns once the API has subscribed this client (so no change after
     * this call is missed), then delivers events until closed or the stream ends.
     */
    EventFeed events(String prefix) {
        String path = "/v1/events" + (prefix == null || prefix.isEmpty() ? "" : "?prefix=" + enc(prefix));
        try {
            // the API sends a comment every 15 s, so a quiet fleet never reaches this read timeout; an API that
            // accepted the connection but hangs does, instead of blocking past the command's --timeout
            HttpURLConnection c = open(path, "text/event-stream", timeout.compareTo(STREAM_SILENCE) > 0 ? timeout
                    : STREAM_SILENCE);
            failUnlessOk(c, path, c.getResponseCode());
            return new EventFeed(c.getInputStream());
        } catch (IOException e) {
            throw getFailed(path, e);
        }
    }
}
