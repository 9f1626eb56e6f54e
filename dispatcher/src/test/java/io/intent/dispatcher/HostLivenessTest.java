package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Liveness verdicts as pure functions of the times passed in. */
class HostLivenessTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aNeverSeenHostIsMissingSinceTheFirstSuccessfulReadNotSinceStart() {
        HostLiveness l = new HostLiveness(Duration.ofSeconds(30), 0);
        // etcd was unreachable for 60 s after start; the first read of live/ comes then
        l.read(60 * S);
        assertEquals(Set.of("h1"), l.graced(List.of("h1"), 61 * S), "still in grace one second after the read");
        assertEquals(90 * S, l.nextDeath(List.of("h1"), 61 * S));
        l.read(80 * S);
        assertEquals(60 * S, l.missingSince("h1"), "only the first read starts the clock");
        assertEquals(Set.of(), l.graced(List.of("h1"), 91 * S));
    }

    @Test
    void aHostSeenLiveIsMissingSinceItsKeyWentAway() {
        HostLiveness l = new HostLiveness(Duration.ofSeconds(30), 0);
        l.read(0);
        l.present("h1");
        l.gone("h1", 100 * S);
        assertEquals(100 * S, l.missingSince("h1"));
        assertEquals(Set.of("h1"), l.graced(List.of("h1"), 129 * S));
        l.present("h1");
        assertEquals(Set.of(), l.graced(List.of("h1"), 200 * S));
    }
}
