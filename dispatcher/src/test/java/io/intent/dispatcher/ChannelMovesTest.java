package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.codec.Validation;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelFollow;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** What the leader writes to an app following a channel, as a pure function. */
class ChannelMovesTest {
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

    private static VersionSpec spec(String v) {
        return new VersionSpec("https://repo.example/web-" + v + ".tar.gz", sha(v), null, null);
    }

    private static String sha(String v) {
        return String.format("%064x", Math.abs(v.hashCode()));
    }

    private static AppIntent app(Map<String, VersionSpec> versions, String active, ChannelFollow block) {
        return new AppIntent(versions, active, new RunSpec(List.of("bin/server"), Map.of(), null), List.of(), 1, null,
                null, null, null, null, null, block);
    }

    private static ChannelMoves.ChannelView channel(String v, long rev) {
        VersionSpec s = spec(v);
        return new ChannelMoves.ChannelView("stable", new Channel(v, s.artifact(), s.sha256(), null, null, null,
                null, null), null, rev);
    }

    private static ChannelFollow moved(String v, long channelRev, long appRev, List<String> added) {
        return new ChannelFollow("stable", v, channelRev, appRev, NOW, null, null, added);
    }

    @Test
    void aFreshFollowerIsMovedToTheChannelsVersionWithItsArtifactAndProvenance() {
        AppIntent a = app(Map.of("1.0", spec("1.0")), "1.0", ChannelFollow.of("stable"));
        var d = ChannelMoves.decide("web", a, 40, channel("2.0", 30), List.of(), NOW);
        var w = assertInstanceOf(ChannelMoves.Write.class, d);
        assertFalse(w.stops());
        assertEquals("2.0", w.next().active());
        assertEquals(spec("2.0"), w.next().versions().get("2.0"));
        assertEquals(spec("1.0"), w.next().versions().get("1.0"));
        assertEquals(new ChannelFollow("stable", "2.0", 30L, 40L, NOW, null, null, List.of("2.0")),
                w.next().channel());
        assertTrue(Validation.check("web", w.next()).isEmpty());
    }

    @Test
    void anAppWithoutAnyVersionGetsItsFirstFromTheChannel() {
        AppIntent a = app(Map.of(), null, ChannelFollow.of("stable"));
        assertTrue(Validation.check("web", a).isEmpty(), "a follower may start with no version");
        var w = assertInstanceOf(ChannelMoves.Write.class, ChannelMoves.decide("web", a, 5, channel("1.0", 4),
                List.of(), NOW));
        assertEquals("1.0", w.next().active());
    }

    @Test
    void aFollowerAlreadyAtTheChannelsVersionIsLeftAloneEvenWhenAnOperatorChangedActive() {
        AppIntent a = app(Map.of("1.0", spec("1.0"), "2.0", spec("2.0")), "1.0", moved("2.0", 30, 40, List.of("2.0")));
        assertEquals(new ChannelMoves.Stay(null), ChannelMoves.decide("web", a, 50, channel("2.0", 31), List.of(), NOW));
    }

    @Test
    void aChannelMoveReplacesActiveAndKeepsThePreviousVersion() {
        AppIntent a = app(Map.of("1.0", spec("1.0"), "2.0", spec("2.0")), "2.0", moved("2.0", 30, 40, List.of("2.0")));
        var w = assertInstanceOf(ChannelMoves.Write.class, ChannelMoves.decide("web", a, 50, channel("3.0", 60),
                List.of(), NOW));
        assertEquals("3.0", w.next().active());
        assertEquals(List.of("2.0", "3.0"), w.next().channel().added());
        assertEquals(60L, w.next().channel().revision());
        assertEquals(50L, w.next().channel().appRevision());
        assertTrue(w.next().versions().keySet().containsAll(List.of("1.0", "2.0", "3.0")));
    }

    @Test
    void aFailureOfTheMovedToVersionAfterTheMoveStopsFollowing() {
        AppIntent a = app(Map.of("1.0", spec("1.0"), "2.0", spec("2.0")), "2.0", moved("2.0", 30, 40, List.of("2.0")));
        var failure = new ChannelMoves.Failure("h2", "2.0", 41, "2.0 did not pass its health check; rolled back to 1.0");
        var w = assertInstanceOf(ChannelMoves.Write.class, ChannelMoves.decide("web", a, 41, channel("2.0", 30),
                List.of(failure), NOW));
        assertTrue(w.stops());
        assertFalse(w.next().following());
        assertEquals("stable", w.next().channel().follow());
        assertTrue(w.next().channel().stopped().contains("rollout of 2.0 from channel stable failed on h2"),
                w.next().channel().stopped());
        assertTrue(w.next().channel().stopped().contains("rolled back to 1.0"));
        assertEquals(NOW, w.next().channel().stoppedAt());
        assertEquals("2.0", w.next().active(), "the leader changes nothing else: an operator decides");
        assertEquals(a.versions(), w.next().versions());
    }

    @Test
    void aFailureReportedAboutARevisionBeforeTheMoveIsStale() {
        AppIntent a = app(Map.of("1.0", spec("1.0"), "2.0", spec("2.0")), "2.0", moved("2.0", 30, 40, List.of("2.0")));
        var stale = new ChannelMoves.Failure("h2", "2.0", 40, "old");
        var otherVersion = new ChannelMoves.Failure("h1", "1.0", 45, "the old version failed");
        assertEquals(new ChannelMoves.Stay(null), ChannelMoves.decide("web", a, 45, channel("2.0", 30),
                List.of(stale, otherVersion), NOW));
    }

    @Test
    void aStoppedFollowerIsNeverMoved() {
        AppIntent a = app(Map.of("1.0", spec("1.0")), "1.0",
                moved("1.0", 30, 40, null).stop("rollout failed", NOW));
        assertEquals(new ChannelMoves.Stay(null), ChannelMoves.decide("web", a, 50, channel("3.0", 60), List.of(), NOW));
    }

    @Test
    void aMissingOrInvalidChannelMovesNothingAndSaysWhy() {
        AppIntent a = app(Map.of("1.0", spec("1.0")), "1.0", ChannelFollow.of("stable"));
        var missing = ChannelMoves.decide("web", a, 5, ChannelMoves.ChannelView.missing("stable"), List.of(), NOW);
        assertEquals(new ChannelMoves.Stay("channel stable does not exist"), missing);
        var invalid = ChannelMoves.decide("web", a, 5, new ChannelMoves.ChannelView("stable",
                new Channel("2.0", "https://r/x.tgz", null, null, null, null, null, null),
                "channel stable is invalid: sha256: required with artifact", 9), List.of(), NOW);
        assertEquals(new ChannelMoves.Stay("channel stable is invalid: sha256: required with artifact"), invalid);
    }

    @Test
    void aChannelVersionThatDiffersFromTheAppsOwnSameNamedVersionStopsFollowing() {
        AppIntent a = app(Map.of("2.0", new VersionSpec("https://other/x.tgz", "b".repeat(64), null, null)), "2.0",
                ChannelFollow.of("stable"));
        var w = assertInstanceOf(ChannelMoves.Write.class, ChannelMoves.decide("web", a, 5, channel("2.0", 4),
                List.of(), NOW));
        assertTrue(w.stops());
        assertTrue(w.next().channel().stopped().contains("differs"), w.next().channel().stopped());
        assertEquals(a.versions(), w.next().versions());
    }

    @Test
    void aMoveThatWouldMakeTheIntentInvalidStopsFollowingInsteadOfWritingIt() {
        AppIntent docker = new AppIntent(Map.of("1.0", new VersionSpec(null, null,
                "web@sha256:" + "c".repeat(64), null)), "1.0", null, List.of(), 1, null, null, null, "docker", null,
                null, ChannelFollow.of("stable"));
        ChannelMoves.ChannelView ch = new ChannelMoves.ChannelView("stable", new Channel("2.0",
                "https://r/web-2.0.zip", "d".repeat(64), null, "zip", null, null, null), null, 7);
        var w = assertInstanceOf(ChannelMoves.Write.class, ChannelMoves.decide("web", docker, 8, ch, List.of(), NOW));
        assertTrue(w.stops());
        assertTrue(w.next().channel().stopped().contains("would make the intent invalid"), w.next().channel().stopped());
    }

    /** However many moves happen, versions never exceed the limit and the leader prunes only its own additions. */
    @Property(tries = 50)
    void manyMovesKeepOnlyTheLastFewAddedVersionsAndEveryOperatorVersion(@ForAll @IntRange(min = 1, max = 60) int moves,
                                                                         @ForAll @IntRange(min = 1, max = 29) int own) {
        Map<String, VersionSpec> versions = new LinkedHashMap<>();
        for (int i = 0; i < own; i++) {
            versions.put("op-" + i, spec("op-" + i));
        }
        AppIntent a = app(versions, "op-0", ChannelFollow.of("stable"));
        long rev = 10;
        for (int m = 1; m <= moves; m++) {
            var d = ChannelMoves.decide("web", a, rev, channel("v" + m, rev - 1), List.of(), NOW);
            a = assertInstanceOf(ChannelMoves.Write.class, d).next();
            rev += 2;
            assertEquals("v" + m, a.active());
            assertTrue(a.versions().size() <= 32, "versions: " + a.versions().size());
            assertTrue(a.versions().keySet().containsAll(versions.keySet()), "operator versions kept");
            assertTrue(a.channel().added().size() <= ChannelMoves.KEEP_ADDED);
            assertTrue(Validation.check("web", a).isEmpty(), Validation.check("web", a).toString());
        }
        assertNull(a.channel().stopped());
    }
}
