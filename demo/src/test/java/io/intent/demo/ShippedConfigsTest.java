package io.intent.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.ApiMain;
import io.intent.iptables.IptablesMain;
import io.intent.leader.LeaderMain;
import io.intent.node.NodeMain;
import io.intent.preparer.PreparerMain;
import io.intent.setlive.SetliveMain;
import io.intent.daemon.config.ConfigDefaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The configs in etc/intent are exactly the options of the process that reads them, each with a comment: they
 * parse as shipped and with every commented-out key turned on, and no option is missing.
 */
class ShippedConfigsTest {
    static final Path ETC = Path.of("..", "etc", "intent");
    /** A commented-out option: "# key: value" (prose comments never start with "word:"). */
    private static final Pattern COMMENTED_KEY = Pattern.compile("^# ?([a-z][a-z0-9-]*): (.*)$");
    private static final Pattern KEY = Pattern.compile("^([a-z][a-z0-9-]*):(.*)$");
    /** Options that are actions (--once: a one-shot run; --logs-host-key: print a key) or the file itself. */
    private static final Set<String> NOT_SETTINGS = Set.of("help", "version", "config", "hash-token", "once",
            "logs-host-key");

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("node.yaml", (Supplier<Object>) NodeMain::new),
                Arguments.of("preparer.yaml", (Supplier<Object>) PreparerMain::new),
                Arguments.of("iptables.yaml", (Supplier<Object>) IptablesMain::new),
                Arguments.of("setlive.yaml", (Supplier<Object>) SetliveMain::new),
                Arguments.of("leader.yaml", (Supplier<Object>) LeaderMain::new),
                Arguments.of("api.yaml", (Supplier<Object>) ApiMain::new));
    }

    @Test
    void everyShippedConfigIsTestedHere() throws Exception {
        Set<String> shipped = new TreeSet<>();
        try (var files = Files.list(ETC)) {
            files.forEach(f -> shipped.add(f.getFileName().toString()));
        }
        Set<String> tested = new TreeSet<>();
        configs().forEach(a -> tested.add((String) a.get()[0]));
        assertEquals(tested, shipped);
    }

    private static void parse(Supplier<Object> command, Path config) {
        String[] args = {"--config", config.toString()};
        ConfigDefaults.install(new CommandLine(command.get()), args, Map.of()).parseArgs(args);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void parsesAsShippedAndWithEveryCommentedKeyOn(String file, Supplier<Object> command, @TempDir Path dir)
            throws Exception {
        Path shipped = ETC.resolve(file);
        parse(command, shipped);
        List<String> on = new ArrayList<>();
        for (String line : Files.readAllLines(shipped)) {
            Matcher m = COMMENTED_KEY.matcher(line);
            on.add(m.matches() ? m.group(1) + ": " + m.group(2) : line);
        }
        Path all = dir.resolve(file);
        Files.write(all, on);
        parse(command, all);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void namesEveryOptionOnceEachUnderAComment(String file, Supplier<Object> command) throws Exception {
        List<String> lines = Files.readAllLines(ETC.resolve(file));
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher set = KEY.matcher(lines.get(i));
            Matcher off = COMMENTED_KEY.matcher(lines.get(i));
            String key = set.matches() ? set.group(1) : off.matches() ? off.group(1) : null;
            if (key == null) {
                continue;
            }
            keys.add(key);
            String above = i == 0 ? "" : lines.get(i - 1);
            assertTrue(above.startsWith("#") && !COMMENTED_KEY.matcher(above).matches(),
                    file + ": '" + key + "' has no comment of its own above it");
        }
        Set<String> options = new TreeSet<>(ConfigDefaults.optionNames(
                new CommandLine(command.get()).getCommandSpec()));
        new CommandLine(command.get()).getCommandSpec().options().stream().filter(o -> o.hidden())
                .forEach(o -> options.remove(o.longestName().replaceFirst("^-+", "")));
        options.removeAll(NOT_SETTINGS);
        assertEquals(options, new TreeSet<>(keys), file + ": the keys must be exactly the options");
        assertEquals(new TreeSet<>(keys).size(), keys.size(), file + ": a key appears twice");
    }
}
