package io.intent.setlive;

import io.intent.store.KeyLayout;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Session;
import io.intent.store.model.Endpoint;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This host's endpoints in etcd, on the agent's lease: published when an instance is healthy, withdrawn before it
 * is stopped.
 */
final class Endpoints {
    private final EtcdStore store;
    private final KeyLayout keys;
    private final String host;
    private final String address;
    private final Session lease;
    /** What this agent last published per app, with the lease it hangs on, to skip needless writes. */
    private final Map<String, Entry<Endpoint>> published = new ConcurrentHashMap<>();

    Endpoints(EtcdStore store, String host, String address, Session lease) {
        this.store = store;
        this.keys = store.keys();
        this.host = host;
        this.address = address;
        this.lease = lease;
    }

    /** The endpoint key of {@code app} on this host (deleted in the rollout slot's transaction). */
    String key(String app) {
        return keys.endpoint(app, host);
    }

    /** Publishes {@code live} as the app's endpoint on this host, unless it is there already on our lease. */
    void publish(String app, LaunchSpec live) {
        long leaseId = lease.lease();
        Entry<Endpoint> last = published.get(app);
        if (last != null && last.lease() == leaseId && live.version().equals(last.value().version())
                && live.portsByName().equals(last.value().ports())) {
            return;
        }
        String key = key(app);
        Optional<Entry<Endpoint>> there = store.get(key, Endpoint.class);
        Endpoint want = new Endpoint(app, host, address, live.version(), live.portsByName(), Instant.now());
        if (there.isPresent() && there.get().valid() && there.get().lease() == leaseId
                && sameEndpoint(there.get().value(), want)) {
            published.put(app, there.get());
            return;
        }
        store.put(key, want, leaseId);
        published.put(app, new Entry<>(key, want, null, null, 0, 0, leaseId));
    }

    private static boolean sameEndpoint(Endpoint a, Endpoint b) {
        return a.app().equals(b.app()) && a.host().equals(b.host()) && a.address().equals(b.address())
                && a.version().equals(b.version()) && a.ports().equals(b.ports());
    }

    /** Deletes the app's endpoint on this host. */
    void withdraw(String app) {
        published.remove(app);
        store.delete(key(app));
    }

    /** The endpoint went in another transaction (the rollout slot's): forget that it was published. */
    void withdrawn(String app) {
        published.remove(app);
    }
}
