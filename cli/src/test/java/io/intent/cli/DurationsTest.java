package io.intent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** Durations as operators type them, as a pure parser. */
class DurationsTest {
    @Test
    void unitsCombineAndABareNumberIsSeconds() {
        assertEquals(Duration.ofMinutes(5), Durations.parse("5m"));
        assertEquals(Duration.ofSeconds(90), Durations.parse("1m30s"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m"));
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofMillis(2500), Durations.parse("2.5s"));
        assertEquals(Duration.ofDays(1), Durations.parse("1d"));
        assertEquals(Duration.ofSeconds(60), Durations.parse("60"));
        assertEquals(Duration.ofMinutes(5), Durations.parse("PT5M"));
    }

    @Test
    void whatIsNotADurationIsAnErrorNamingTheValue() {
        for (String bad : new String[] {"", "5x", "m5", "5m foo", "-5s", "1.2.3s", "P-1D"}) {
            var e = assertThrows(TypeConversionException.class, () -> Durations.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void formatReadsBackToTheSameDuration() {
        for (long ms : new long[] {0, 1, 999, 1000, 1500, 59_000, 60_000, 90_000, 3_600_000, 5_430_000, 86_400_000}) {
            Duration d = Duration.ofMillis(ms);
            assertEquals(d, Durations.parse(Durations.format(d)), Durations.format(d));
        }
        assertEquals("5m", Durations.format(Duration.ofMinutes(5)));
        assertEquals("1h30m", Durations.format(Duration.ofMinutes(90)));
    }
}
