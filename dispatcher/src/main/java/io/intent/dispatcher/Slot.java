package io.intent.dispatcher;

import java.util.Comparator;

/** One place an instance can be: an app on a host, i.e. the key {@code /intent/assign/<host>/<app>}. */
public record Slot(String host, String app) implements Comparable<Slot> {
    private static final Comparator<Slot> ORDER = Comparator.comparing(Slot::host).thenComparing(Slot::app);

    @Override
    public int compareTo(Slot o) {
        return ORDER.compare(this, o);
    }
}
