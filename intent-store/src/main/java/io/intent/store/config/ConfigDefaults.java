package io.intent.store.config;

import io.intent.store.codec.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Supplies option defaults from the environment and a config file, so every intent process is configured
 * the same way. Precedence: command-line flag, then environment variable {@code INTENT_<OPTION>} (for
 * {@code --etcd-user}: {@code INTENT_ETCD_USER}), then the config file ({@code --config FILE} or
 * {@code INTENT_CONFIG}; YAML or JSON with the option names as keys, e.g. {@code etcd-user: host1}), then the
 * option's built-in default.
 */
public final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> env;
    private final Map<String, String> file;

    public ConfigDefaults(Map<String, String> env, Map<String, String> file) {
        this.env = env;
        this.file = file;
    }

    /** Reads the environment and the config file named by {@code --config} in {@code args} or INTENT_CONFIG. */
    public static ConfigDefaults from(String[] args, Map<String, String> env) {
        String path = env.get("INTENT_CONFIG");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                path = args[i].substring("--config=".length());
            }
        }
        return new ConfigDefaults(env, path == null ? Map.of() : readFile(Path.of(path)));
    }

    static Map<String, String> readFile(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(new CommandLine(new Object()),
                    "cannot read config file " + path + ": " + e.getMessage());
        }
        Map<String, String> out = new HashMap<>();
        for (var doc : Json.readYamlDocuments(text)) {
            if (!doc.isObject()) {
                throw new IllegalArgumentException("config file " + path + " must be a map of option: value");
            }
            doc.fields().forEachRemaining(f -> {
                var v = f.getValue();
                if (v.isArray()) {
                    StringBuilder sb = new StringBuilder();
                    v.forEach(x -> sb.append(sb.isEmpty() ? "" : ",").append(x.asText()));
                    out.put(f.getKey(), sb.toString());
                } else if (v.isObject()) {
                    StringBuilder sb = new StringBuilder();
                    v.fields().forEachRemaining(x -> sb.append(sb.isEmpty() ? "" : ",").append(x.getKey())
                            .append('=').append(x.getValue().asText()));
                    out.put(f.getKey(), sb.toString());
                } else {
                    out.put(f.getKey(), v.asText());
                }
            });
        }
        return out;
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec spec) {
        if (!(spec instanceof CommandLine.Model.OptionSpec opt)) {
            return null;
        }
        String name = opt.longestName().replaceFirst("^-+", "");
        String fromEnv = env.get("INTENT_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
        if (fromEnv != null) {
            return fromEnv;
        }
        return file.get(name);
    }
}
