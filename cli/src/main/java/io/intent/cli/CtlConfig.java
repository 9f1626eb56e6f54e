package io.intent.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;

/**
 * intentctl's config file ({@code ~/.config/intent/config.yaml}): named contexts, each an API URL, a token file
 * and a CA certificate, and the context used when {@code --context} is not given. Read strictly: an unknown
 * field is an error naming it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record CtlConfig(@JsonProperty("current-context") String currentContext, Map<String, Context> contexts) {

    /** One API to talk to. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Context(String api, @JsonProperty("token-file") String tokenFile, String cacert) {
        Context merge(Context over) {
            return new Context(over.api != null ? over.api : api, over.tokenFile != null ? over.tokenFile : tokenFile,
                    over.cacert != null ? over.cacert : cacert);
        }
    }

    static final CtlConfig EMPTY = new CtlConfig(null, Map.of());

    CtlConfig {
        contexts = contexts == null ? Map.of() : new TreeMap<>(contexts);
    }

    /** {@code $INTENTCTL_CONFIG}, else {@code $XDG_CONFIG_HOME/intent/config.yaml}, else {@code ~/.config/...}. */
    static Path defaultPath() {
        String env = System.getenv("INTENTCTL_CONFIG");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("intent").resolve("config.yaml");
    }

    /** The file's config; {@link #EMPTY} when there is no file (so nothing is parsed on the fast path). */
    static CtlConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            return EMPTY;
        }
        try {
            String text = Files.readString(file);
            var docs = Json.readYamlDocuments(text);
            if (docs.isEmpty() || docs.get(0).isNull()) {
                return EMPTY;
            }
            CtlConfig c = Json.convert(docs.get(0), CtlConfig.class);
            return c == null ? EMPTY : c;
        } catch (IOException e) {
            throw new CtlException(1, "cannot read config " + file + ": " + e.getMessage());
        } catch (InvalidValueException e) {
            throw new CtlException(1, "config " + file + ": " + e.getMessage());
        }
    }

    /** Writes atomically (temp file + rename), readable by the owner only: it names token files. */
    void save(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".config", ".tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                Files.writeString(tmp, Output.yaml(this));
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new CtlException(1, "cannot write config " + file + ": " + e.getMessage());
        }
    }

    CtlConfig withContext(String name, Context c) {
        Map<String, Context> m = new TreeMap<>(contexts);
        m.merge(name, c, Context::merge);
        return new CtlConfig(currentContext == null ? name : currentContext, m);
    }

    CtlConfig without(String name) {
        Map<String, Context> m = new TreeMap<>(contexts);
        m.remove(name);
        return new CtlConfig(name.equals(currentContext) ? null : currentContext, m);
    }

    CtlConfig using(String name) {
        return new CtlConfig(name, contexts);
    }

    /** The named context, or the current one; null when neither is set. */
    Context context(String name) {
        String n = name != null ? name : currentContext;
        if (n == null) {
            return null;
        }
        Context c = contexts.get(n);
        if (c == null) {
            throw new CtlException(1, "no context '" + n + "' in the config; known: "
                    + (contexts.isEmpty() ? "none (intentctl config set-context NAME --api URL)"
                    : String.join(", ", contexts.keySet())));
        }
        return c;
    }

    /** {@code ~/x} -> the home directory's x. */
    static Path expand(String path) {
        if (path.equals("~") || path.startsWith("~/")) {
            return Path.of(System.getProperty("user.home") + path.substring(1));
        }
        return Path.of(path);
    }
}
