package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The API as the CLI uses it: JSON requests with the bearer token, answers decoded, errors turned into a
 * {@link CtlException} carrying the API's message and field errors. Writes carry an Idempotency-Key, so the
 * retries after a lost connection or a 503 cannot apply a change twice.
 */
// Long (about 340 lines): one HTTP client with its retry, TLS and error-message rules in one place; the parts
// (request building, decoding, paging, error mapping) are private methods that share the client's fields.
final class ApiClient {
    /** An answer: status, decoded body (null when empty), and the ETag if any. */
    record Response(int status, JsonNode body, String etag) {
    }

    private final URI base;
    private final String token;
    private final HttpClient http;
    private final Duration timeout;

    ApiClient(String base, String token, Duration timeout) {
        this(base, token, timeout, null);
    }

    /** With {@code ssl} (null: the JDK's default trust) for an https base URL. */
    ApiClient(String base, String token, Duration timeout, SSLContext ssl) {
        String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        try {
            this.base = URI.create(b);
        } catch (IllegalArgumentException e) {
            throw new CtlException(2, "--api '" + base + "' is not a URL: " + e.getMessage());
        }
        this.token = token;
        this.timeout = timeout;
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(timeout);
        if (ssl != null) {
            hb.sslContext(ssl);
        }
        this.http = hb.build();
    }

    /**
     * A TLS context trusting exactly the PEM certificates in {@code caFile} (a private CA's {@code ca.pem}).
     *
     * @throws CtlException (usage, exit 2) naming the file when it cannot be read or holds no certificate
     */
    static SSLContext trusting(Path caFile) {
        try (var in = Files.newInputStream(caFile)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int n = 0;
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca-" + n++, c);
            }
            if (n == 0) {
                throw new CtlException(2, "--cacert " + caFile + ": no certificate in it (expected PEM "
                        + "-----BEGIN CERTIFICATE-----)");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException e) {
            throw new CtlException(2, "--cacert " + caFile + ": cannot read it (" + e.getClass().getSimpleName()
                    + ": " + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new CtlException(2, "--cacert " + caFile + ": no certificate in it (" + e.getMessage() + ")");
        }
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
            HttpRequest request = request(method, path, bytes, idempotencyKey, ifMatch);
            try {
                HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() == 503 && attempts < 4) {
                    sleep(attempts);
                    continue;
                }
                Response resp = decode(method, path, r);
                if (failOnError) {
                    check(resp);
                }
                return resp;
            } catch (SSLHandshakeException e) {
                // not retried: an untrusted certificate stays untrusted
                throw new CtlException(1, "the API's TLS certificate at " + base + " is not trusted or does not "
                        + "match its address (" + e.getMessage() + "); if a private CA signed it, pass --cacert FILE "
                        + "(or set INTENT_CACERT) with that CA's certificate");
            } catch (ConnectException e) {
                if (attempts < 3) {
                    sleep(attempts);
                    continue;
                }
                throw new CtlException(1, "cannot reach the API at " + base + " (" + e.getClass().getSimpleName()
                        + "); set --api or INTENT_API");
            } catch (IOException e) {
                if (attempts < 3 && idempotencyKey != null) {
                    sleep(attempts);
                    continue;
                }
                throw new CtlException(1, method + " " + base.resolve(path) + " failed: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CtlException(1, "interrupted");
            }
        }
    }

    private HttpRequest request(String method, String path, byte[] bytes, String idempotencyKey, String ifMatch) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Accept", "application/json");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token.strip());
        }
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        if (bytes.length > 0) {
            b.header("Content-Type", "application/json");
        }
        return b.method(method, bytes.length == 0 ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
    }

    private Response decode(String method, String path, HttpResponse<byte[]> r) {
        JsonNode json = null;
        if (r.body().length > 0) {
            try {
                json = Json.tree(r.body());
            } catch (InvalidValueException e) {
                throw new CtlException(1, method + " " + path + ": the API answered HTTP " + r.statusCode()
                        + " with a body that is not JSON; is --api " + base + " the intent API?");
            }
        }
        return new Response(r.statusCode(), json, r.headers().firstValue("ETag").orElse(null));
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
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).header("Accept", "text/plain");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token.strip());
        }
        try {
            HttpResponse<java.io.InputStream> r = http.send(b.GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (java.io.InputStream in = r.body()) {
                if (r.statusCode() >= 400) {
                    byte[] body = in.readAllBytes();
                    JsonNode json = null;
                    try {
                        json = body.length == 0 ? null : Json.tree(body);
                    } catch (InvalidValueException e) {
                        throw new CtlException(1, "GET " + path + ": HTTP " + r.statusCode());
                    }
                    check(new Response(r.statusCode(), json, null));
                }
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
        } catch (SSLHandshakeException e) {
            throw new CtlException(1, "the API's TLS certificate at " + base + " is not trusted (" + e.getMessage()
                    + "); pass --cacert FILE (or set INTENT_CACERT)");
        } catch (ConnectException e) {
            throw new CtlException(1, "cannot reach the API at " + base + "; set --api or INTENT_API");
        } catch (IOException e) {
            throw new CtlException(1, "GET " + base.resolve(path) + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CtlException(1, "interrupted");
        }
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
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Accept", "text/event-stream");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token.strip());
        }
        try {
            HttpResponse<java.io.InputStream> r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                byte[] body;
                try (var in = r.body()) {
                    body = in.readAllBytes();
                }
                check(new Response(r.statusCode(), body.length == 0 ? null : Json.tree(body), null));
                throw new CtlException(1, "GET " + path + ": HTTP " + r.statusCode());
            }
            return new EventFeed(r.body());
        } catch (ConnectException e) {
            throw new CtlException(1, "cannot reach the API at " + base + " (" + e.getClass().getSimpleName()
                    + "); set --api or INTENT_API");
        } catch (IOException e) {
            throw new CtlException(1, "GET " + base.resolve(path) + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CtlException(1, "interrupted");
        }
    }
}
