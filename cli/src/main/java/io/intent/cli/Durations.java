package io.intent.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations as operators type them: {@code 5m}, {@code 90s}, {@code 1h30m}, {@code 500ms}, ISO-8601 {@code PT5M},
 * or a bare number of seconds.
 */
final class Durations implements ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    /** Parses one duration; a clear error naming the value otherwise. */
    static Duration parse(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        if (v.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(v));
        }
        if (v.startsWith("pt") || v.startsWith("p")) {
            try {
                return nonNegative(value, Duration.parse(v.toUpperCase(Locale.ROOT)));
            } catch (DateTimeParseException e) {
                throw bad(value);
            }
        }
        Matcher m = PART.matcher(v);
        int at = 0;
        Duration total = Duration.ZERO;
        while (m.find() && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            long unitMs = switch (m.group(2)) {
                case "ms" -> 1L;
                case "s" -> 1_000L;
                case "m" -> 60_000L;
                case "h" -> 3_600_000L;
                default -> 86_400_000L;
            };
            total = total.plusMillis(Math.round(n * unitMs));
            at = m.end();
        }
        if (at == 0 || at != v.length()) {
            throw bad(value);
        }
        return total;
    }

    private static Duration nonNegative(String value, Duration d) {
        if (d.isNegative()) {
            throw bad(value);
        }
        return d;
    }

    private static TypeConversionException bad(String value) {
        return new TypeConversionException("'" + value + "' is not a duration: use e.g. 30s, 5m, 1h30m, 500ms or "
                + "a number of seconds");
    }

    /** {@code 5m}, {@code 1h30m}, {@code 2.5s}: the shortest form that reads back to the same duration. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms < 1000 ? ms + "ms" : (ms / 1000.0) + "s";
        }
        long s = ms / 1000;
        StringBuilder sb = new StringBuilder();
        if (s >= 3600) {
            sb.append(s / 3600).append('h');
            s %= 3600;
        }
        if (s >= 60) {
            sb.append(s / 60).append('m');
            s %= 60;
        }
        if (s > 0 || sb.isEmpty()) {
            sb.append(s).append('s');
        }
        return sb.toString();
    }
}
