package io.intent.dispatcher;

import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the dispatcher follows all the time, standby or not: apps, host specs, host liveness and instance health,
 * from the watches of {@code apps/}, {@code hosts/}, {@code live/} and {@code status/}. Confined to the
 * dispatcher's thread.
 */
final class FleetView {
    private static final Logger log = LoggerFactory.getLogger(FleetView.class);

    private final String appsPrefix;
    private final String hostsPrefix;
    private final String livePrefix;
    private final Map<String, PlanInput.App> apps = new TreeMap<>();
    private final Map<String, HostSpec> hosts = new TreeMap<>();
    /** Hosts whose spec exists but never decoded or validated: their instances stay, they get nothing new. */
    private final Set<String> unreadable = new TreeSet<>();
    private final HostLiveness liveness;
    private final InstanceHealth health;

    FleetView(io.intent.store.KeyLayout keys, HostLiveness liveness) {
        this.appsPrefix = keys.appsPrefix();
        this.hostsPrefix = keys.hostsPrefix();
        this.livePrefix = keys.livePrefix();
        this.liveness = liveness;
        this.health = new InstanceHealth(keys.statusPrefix());
    }

    void onApps(List<SliceWatch.Change<AppIntent>> changes) {
        WatchedPrefixes.byChild(appsPrefix, changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                apps.remove(name);
            } else if (c.entry().valid()) {
                apps.put(name, PlanInput.App.valid(name, c.entry().value(), c.entry().modRevision()));
            } else {
                apps.put(name, PlanInput.App.broken(name, c.entry().modRevision(), c.entry().error()));
            }
        });
    }

    void onHosts(List<SliceWatch.Change<HostSpec>> changes) {
        WatchedPrefixes.byChild(hostsPrefix, changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                hosts.remove(name);
                unreadable.remove(name);
                return;
            }
            List<FieldError> errs = c.entry().valid() ? Validation.check(name, c.entry().value())
                    : List.of(new FieldError("", c.entry().error()));
            if (errs.isEmpty()) {
                hosts.put(name, c.entry().value());
                unreadable.remove(name);
            } else if (!hosts.containsKey(name)) {
                // never let a typo in a host spec move the host's instances: without a last good spec to keep,
                // the host keeps what it runs as it is and gets nothing new
                unreadable.add(name);
                log.warn("host spec {} is invalid ({}); its instances stay as they are, it gets nothing new",
                        c.key(), errs);
            } else {
                log.warn("host spec {} is invalid ({}); keeping its last valid spec", c.key(), errs);
            }
        });
    }

    void onLive(List<SliceWatch.Change<Liveness>> changes) {
        long now = System.nanoTime();
        liveness.read(now);
        WatchedPrefixes.byChild(livePrefix, changes, (name, c) -> {
            if (c.kind() == SliceWatch.Kind.DELETE) {
                liveness.gone(name, now);
            } else {
                liveness.present(name);
            }
        });
    }

    /** Takes in setlive's statuses, only to know which instances run healthy and which are sick. */
    InstanceHealth.Changed onStatus(List<SliceWatch.Change<AgentStatus>> changes) {
        return health.apply(changes);
    }

    Map<String, PlanInput.App> apps() {
        return apps;
    }

    Map<String, HostSpec> hosts() {
        return hosts;
    }

    Set<String> unreadable() {
        return unreadable;
    }

    HostLiveness liveness() {
        return liveness;
    }

    InstanceHealth health() {
        return health;
    }

    /** Every host the plan must consider: with a spec (readable or not) or with instances. */
    Set<String> known(Set<String> withInstances) {
        Set<String> known = new TreeSet<>(hosts.keySet());
        known.addAll(unreadable);
        known.addAll(withInstances);
        return known;
    }

    /** Hosts that count for disruption mode: registered and not draining (an unreadable spec counts). */
    Set<String> counted() {
        Set<String> counted = new TreeSet<>(unreadable);
        hosts.forEach((name, spec) -> {
            if (!spec.drainOrDefault()) {
                counted.add(name);
            }
        });
        return counted;
    }

    /** Of {@code known}, the hosts that are not live, with how many seconds their liveness key has been missing. */
    SortedMap<String, Long> missingSeconds(Set<String> known, long now) {
        SortedMap<String, Long> out = new TreeMap<>();
        for (String h : known) {
            if (!liveness.isLive(h)) {
                out.put(h, TimeUnit.NANOSECONDS.toSeconds(now - liveness.missingSince(h)));
            }
        }
        return out;
    }
}
