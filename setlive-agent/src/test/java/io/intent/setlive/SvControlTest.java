package io.intent.setlive;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.Prerequisites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runsv that has just started holds {@code supervise/lock} before it makes its {@code control} fifo. A command
 * sent in that window must wait for the fifo and never create a plain file there, which would cut runsv off
 * from every later command (seen in the converge benchmark: 2 of 300 instances never started).
 */
class SvControlTest {
    @TempDir
    Path dir;

    @Test
    void aCommandInTheWindowBeforeTheFifoExistsCreatesNothing() throws Exception {
        Path flock = Prerequisites.require("flock", "util-linux");
        Files.createDirectories(dir.resolve("supervise"));
        // the lock held from inside the service dir, as runsv holds it, and no fifo yet
        Process holder = new ProcessBuilder(flock.toString(), "supervise/lock", "sleep", "60")
                .directory(dir.toFile()).start();
        try {
            assertTrue(Sv.awaitSupervised(dir, Duration.ofSeconds(10)), "the lock holder counts as supervising");
            IOException e = assertThrows(IOException.class, () -> Sv.control(dir, "u"));
            assertTrue(e.getMessage().contains("made no control fifo"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("supervise/control")), "control must never be created by us");
        } finally {
            holder.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPlainFileLeftAtControlIsRemovedSoAFreshRunsvCanMakeItsFifo() throws Exception {
        Path flock = Prerequisites.require("flock", "util-linux");
        Files.createDirectories(dir.resolve("supervise"));
        Files.writeString(dir.resolve("supervise/control"), "u");
        Process holder = new ProcessBuilder(flock.toString(), "supervise/lock", "sleep", "60")
                .directory(dir.toFile()).start();
        try {
            assertTrue(Sv.awaitSupervised(dir, Duration.ofSeconds(10)));
            IOException e = assertThrows(IOException.class, () -> Sv.control(dir, "u"));
            assertTrue(e.getMessage().contains("was not a fifo"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("supervise/control")));
        } finally {
            holder.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
