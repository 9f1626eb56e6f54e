package io.intent.api;

import io.intent.api.status.AppState;
import io.intent.api.status.HostStatus;
import io.intent.api.status.Observed;
import io.intent.api.status.StatusModel;
import java.util.List;

/**
 * One immutable snapshot a read is answered from, at {@code observed.revision()}, and where it came from: the
 * watch-fed cache or a read straight from etcd. The full status lists are computed at most once per snapshot
 * (many clients, and every page of one paged read, share them).
 */
final class View {
    /** Where a snapshot was read. */
    enum Source { CACHE, ETCD }

    private final Observed observed;
    private final Source source;
    private volatile Status status;
    /** Encoded pages of the status list, by page (limit, section, after): many clients walk the same snapshot. */
    private final java.util.Map<String, byte[]> pages = new java.util.concurrent.ConcurrentHashMap<>();

    /** The status of every app and host in this snapshot. */
    record Status(List<AppState> apps, List<HostStatus> hosts, boolean converged, String disruption) {
    }

    View(Observed observed, Source source) {
        this.observed = observed;
        this.source = source;
    }

    Observed observed() {
        return observed;
    }

    long revision() {
        return observed.revision();
    }

    Source source() {
        return source;
    }

    /** The encoded page {@code key} of this snapshot's status, encoding it with {@code encode} the first time. */
    byte[] page(String key, java.util.function.Supplier<byte[]> encode) {
        return pages.computeIfAbsent(key, k -> encode.get());
    }

    /** Whether {@link #status} has been computed (answers at once). */
    boolean hasStatus() {
        return status != null;
    }

    /** Computes (once) the status of everything in this snapshot. */
    Status status(StatusModel model) {
        Status s = status;
        if (s == null) {
            synchronized (this) {
                s = status;
                if (s == null) {
                    List<AppState> apps = model.apps(observed);
                    s = new Status(apps, model.hosts(observed), apps.stream().allMatch(AppState::converged),
                            model.disruption(observed));
                    status = s;
                }
            }
        }
        return s;
    }
}
