package io.intent.api;

import io.intent.store.KeyLayout;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.SliceWatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bearer tokens the API accepts, known only by their sha256: from a YAML/JSON file (a list of
 * {@code {name, role, sha256}}) and from etcd ({@code <root>/auth/tokens/<name>} = {@code {role, sha256}},
 * followed live). A presented token is hashed and looked up; tokens themselves are never stored or logged.
 */
public final class Tokens implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Tokens.class);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** One accepted token: who it belongs to, what it may do, and where it was configured. */
    public record Token(String name, Role role, String source) {
    }

    /** A token as written in the tokens file. */
    public record FileToken(String name, String role, String sha256) {
    }

    /** A token as stored in etcd at {@code <root>/auth/tokens/<name>}. */
    public record StoredToken(String role, String sha256) {
    }

    /** One digest per thread: every request hashes its token, and getInstance is most of the cost. */
    private static final ThreadLocal<MessageDigest> SHA256_DIGEST = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private final Map<String, Token> fromFile;
    private final Map<String, Token> fromEtcd = new ConcurrentHashMap<>();
    private volatile SliceWatch<StoredToken> watch;
    private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Tokens(Map<String, Token> bySha256) {
        this.fromFile = Map.copyOf(bySha256);
    }

    public static Tokens none() {
        return new Tokens(Map.of());
    }

    /** The lowercase hex sha256 of a token, as stored in the file and in etcd. */
    public static String hash(String token) {
        byte[] d = SHA256_DIGEST.get().digest(token.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(d);
    }

    /** Reads a tokens file; any problem is an error naming the entry, so a typo never opens the API. */
    public static Tokens fromFile(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokens file " + file + ": " + e.getMessage());
        }
        return new Tokens(parse(text, file.toString()));
    }

    static Map<String, Token> parse(String text, String source) {
        Map<String, Token> out = new java.util.HashMap<>();
        List<FileToken> entries = new ArrayList<>();
        for (var doc : Json.readYamlDocuments(text)) {
            var list = doc.isObject() && doc.has("tokens") ? doc.get("tokens") : doc;
            if (!list.isArray()) {
                throw new IllegalArgumentException(source + ": expected a list of {name, role, sha256}");
            }
            for (var n : list) {
                try {
                    entries.add(Json.convert(n, FileToken.class));
                } catch (InvalidValueException e) {
                    throw new IllegalArgumentException(source + ": entry " + (entries.size() + 1) + ": " + e.getMessage());
                }
            }
        }
        for (FileToken t : entries) {
            String problem = Names.problem(t.name());
            if (problem != null) {
                throw new IllegalArgumentException(source + ": token name '" + t.name() + "': " + problem);
            }
            if (t.sha256() == null || !SHA256.matcher(t.sha256()).matches()) {
                throw new IllegalArgumentException(source + ": token " + t.name()
                        + ": sha256 must be 64 lowercase hex digits (intentctl token hash prints it)");
            }
            Role role = Role.parse(t.role() == null ? "" : t.role());
            if (out.put(t.sha256(), new Token(t.name(), role, source)) != null) {
                throw new IllegalArgumentException(source + ": two tokens with the same sha256");
            }
        }
        return out;
    }

    /** The etcd prefix of stored tokens. */
    public static String prefix(KeyLayout keys) {
        return keys.root() + "/auth/tokens/";
    }

    /** Starts following the tokens stored in etcd; returns once the first list has been read. */
    public Tokens follow(EtcdStore store) {
        String prefix = prefix(store.keys());
        watch = store.watchSlice(prefix, StoredToken.class, (changes, rev, relisted) -> {
            for (var c : changes) {
                String name = KeyLayout.childName(prefix, c.key());
                fromEtcd.entrySet().removeIf(e -> e.getValue().name().equals(name));
                if (c.kind() == SliceWatch.Kind.PUT && name != null) {
                    var e = c.entry();
                    if (!e.valid() || e.value().sha256() == null || !SHA256.matcher(e.value().sha256()).matches()) {
                        log.warn("ignoring token {} in etcd: not {{role, sha256}}", name);
                        continue;
                    }
                    try {
                        fromEtcd.put(e.value().sha256(), new Token(name, Role.parse(e.value().role()), "etcd"));
                    } catch (IllegalArgumentException bad) {
                        log.warn("ignoring token {} in etcd: {}", name, bad.getMessage());
                    }
                }
            }
            listeners.forEach(Runnable::run);
        });
        try {
            if (!watch.awaitReady(store.retryBudget().plusSeconds(5))) {
                log.warn("tokens in etcd not listed yet; they will be accepted once the watch catches up");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return this;
    }

    /** The token {@code presented} (the raw bearer value) belongs to, if any. */
    public Optional<Token> authenticate(String presented) {
        if (presented == null || presented.isEmpty() || presented.length() > 4096) {
            return Optional.empty();
        }
        return byHash(hash(presented));
    }

    /** The token whose sha256 is {@code sha256}, if it is accepted now. */
    public Optional<Token> byHash(String sha256) {
        Token t = fromFile.get(sha256);
        return Optional.ofNullable(t != null ? t : fromEtcd.get(sha256));
    }

    /**
     * Runs {@code listener} after every change to the tokens stored in etcd has been applied (on the watch's
     * thread), so holders of long-lived requests can drop a token the moment it is revoked.
     */
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /** How many tokens are accepted now. */
    public int size() {
        return fromFile.size() + fromEtcd.size();
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }
}
