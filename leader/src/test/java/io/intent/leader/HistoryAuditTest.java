package io.intent.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.intent.dispatcher.LeaderTerm;
import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fencing audit itself must catch a stale write, or the fencing test proves nothing. */
class HistoryAuditTest {
    private final KeyLayout keys = KeyLayout.defaults();
    private final String a = keys.election() + "/aaa";
    private final String b = keys.election() + "/bbb";

    private History.Event stamp(long rev, String key, long fenceRev) {
        return new History.Event(rev, LeaderTerm.key(keys), true, Json.write(new LeaderTerm("x", key, fenceRev)), 1);
    }

    private History.Event assign(long rev) {
        return new History.Event(rev, keys.assignment("h1", "web"), true, new byte[0], 5);
    }

    @Test
    void writesByTheLeaderOfTheMomentPass() {
        var events = List.of(
                new History.Event(2, a, true, new byte[0], 2),
                new History.Event(3, b, true, new byte[0], 3),
                stamp(4, a, 2), assign(4),
                new History.Event(5, a, false, new byte[0], 0),
                stamp(6, b, 3), assign(6));
        assertEquals(Map.of(2L, 1, 3L, 1), History.auditDispatchWrites(events, keys));
    }

    @Test
    void aWriteUnderTheOldLeadersFenceAfterItsKeyWentAwayFails() {
        var events = List.of(
                new History.Event(2, a, true, new byte[0], 2),
                new History.Event(3, b, true, new byte[0], 3),
                new History.Event(5, a, false, new byte[0], 0),
                stamp(6, a, 2), assign(6));
        assertThrows(AssertionError.class, () -> History.auditDispatchWrites(events, keys));
    }

    @Test
    void aWriteWithoutATermStampFails() {
        var events = List.of(new History.Event(2, a, true, new byte[0], 2), assign(3));
        assertThrows(AssertionError.class, () -> History.auditDispatchWrites(events, keys));
    }
}
