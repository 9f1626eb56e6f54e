package io.intent.daemon.config;

import io.intent.store.codec.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Supplies option defaults from the environment and a config file, so every intent process is configured
 * the same way. Precedence: command-line flag, then environment variable {@code INTENT_<OPTION>} (for
 * {@code --etcd-user}: {@code INTENT_ETCD_USER}), then the config file ({@code --config FILE} or
 * {@code INTENT_CONFIG}; YAML or JSON with the option names as keys, e.g. {@code etcd-user: host1}), then the
 * option's built-in default. A config file key that names none of the command's options is an error at
 * start-up naming the key and the closest option ({@link #install}): a misspelt key must not be ignored.
 */
public final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> env;
    private final Map<String, String> file;
    private final Path path;

    public ConfigDefaults(Map<String, String> env, Map<String, String> file) {
        this(env, file, null);
    }

    private ConfigDefaults(Map<String, String> env, Map<String, String> file, Path path) {
        this.env = env;
        this.file = file;
        this.path = path;
    }

    /**
     * Makes {@code cl} take its defaults from the environment and the config file named in {@code args} (or
     * INTENT_CONFIG), and makes parsing fail with a {@link CommandLine.ParameterException} (exit code 2 from
     * {@code execute}, message and usage on stderr) when the file holds a key that is none of the options.
     */
    public static CommandLine install(CommandLine cl, String[] args, Map<String, String> env) {
        ConfigDefaults defaults;
        try {
            defaults = from(args, env);
        } catch (RuntimeException e) {
            // an unreadable or malformed file: reported like a bad flag, when the command line is parsed
            String message = e.getMessage();
            cl.setDefaultValueProvider(spec -> {
                throw new CommandLine.ParameterException(cl, message);
            });
            return cl;
        }
        List<String> known = optionNames(cl.getCommandSpec());
        List<String> errors = new ArrayList<>();
        for (String key : defaults.file.keySet()) {
            if (!known.contains(key)) {
                String near = closest(key, known);
                errors.add("unknown key '" + key + "' in config file " + defaults.path
                        + (near == null ? "" : " (did you mean '" + near + "'?)"));
            }
        }
        if (!errors.isEmpty()) {
            String message = String.join("; ", errors);
            cl.setDefaultValueProvider(spec -> {
                throw new CommandLine.ParameterException(cl, message);
            });
        } else {
            cl.setDefaultValueProvider(defaults);
        }
        return cl;
    }

    /** The config file keys {@code spec} accepts: each option's longest name without its dashes. */
    public static List<String> optionNames(CommandLine.Model.CommandSpec spec) {
        List<String> names = new ArrayList<>();
        for (var opt : spec.options()) {
            names.add(opt.longestName().replaceFirst("^-+", ""));
        }
        return names;
    }

    /**
     * The known name nearest to {@code key}: one that has {@code key} as a dash-separated part (ttl:
     * lease-ttl) first, then by edit distance; null when nothing is near.
     */
    static String closest(String key, List<String> known) {
        Comparator<String> byPart = Comparator.comparing(k -> !List.of(k.split("-")).contains(key));
        Comparator<String> order = byPart.thenComparingInt(k -> editDistance(key, k));
        String best = known.stream().min(order).orElse(null);
        if (best == null) {
            return null;
        }
        boolean part = List.of(best.split("-")).contains(key);
        return part || editDistance(key, best) <= Math.max(2, key.length() / 2) ? best : null;
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
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
        return path == null ? new ConfigDefaults(env, Map.of(), null)
                : new ConfigDefaults(env, readFile(Path.of(path)), Path.of(path));
    }

    static Map<String, String> readFile(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + path + ": " + e.getMessage(), e);
        }
        Map<String, String> out = new LinkedHashMap<>();
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
        if (!(spec instanceof CommandLine.Model.OptionSpec opt) || opt.usageHelp() || opt.versionHelp()) {
            // --help and --version are actions: INTENT_VERSION (the version setlive gives an app, the node included)
            // must not turn them on
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
