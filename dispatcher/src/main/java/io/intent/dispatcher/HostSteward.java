package io.intent.dispatcher;

import io.intent.store.KeyLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Json;
import io.intent.store.codec.Validation;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Op;
import io.intent.store.etcd.SliceWatch;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.RolloutRequest;
import io.intent.store.model.SlotGrant;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's answer to what hosts ask for in keys of their own, so that no host ever writes a key another
 * host or the planner trusts: it copies a host's {@code registration/<host>} to {@code hosts/<host>} once (only
 * while that key is absent; after that the spec is the operators'), and it grants rollout slots. A host asks
 * for a slot with {@code rollout/<host>/<app>} on its setlive lease; a waiting request is granted
 * ({@code slots/<host>/<app>}, in a transaction fenced by the term and guarded by the request's revision) while
 * fewer than the app's {@code maxUnavailable} grants hold. A grant holds only while its request exists on the
 * same lease with the same create revision, so a slot whose holder died or let go never counts; requests from
 * a host not assigned the app, or on no lease, are never granted. All state is confined to one thread.
 */
public final class HostSteward extends TermFollower {
    private static final Logger log = LoggerFactory.getLogger(HostSteward.class);

    // confined to exec
    private final Map<String, Entry<HostSpec>> registrations = new TreeMap<>();
    private final Set<String> hosts = new HashSet<>();
    /** Registrations already tried this term, by host and mod revision: a refused copy is not retried. */
    private final Map<String, Long> copied = new HashMap<>();
    private final Map<String, Entry<RolloutRequest>> requests = new HashMap<>();
    private final Map<String, Entry<SlotGrant>> grants = new HashMap<>();

    private HostSteward(EtcdStore store) {
        super(store, "host-steward", "host steward", 4);
    }

    /** Starts following registrations, host specs, slot requests and grants; writes nothing until {@link #lead}. */
    public static HostSteward follow(EtcdStore store) {
        HostSteward s = new HostSteward(store);
        KeyLayout k = s.keys;
        s.watch(k.registrationPrefix(), HostSpec.class, changes -> track(s.registrations, k.registrationPrefix(),
                changes));
        s.watch(k.hostsPrefix(), HostSpec.class, changes -> WatchedPrefixes.byChild(k.hostsPrefix(), changes,
                (h, c) -> {
                    if (c.kind() == SliceWatch.Kind.DELETE) {
                        s.hosts.remove(h);
                        s.copied.remove(h);
                    } else {
                        s.hosts.add(h);
                    }
                }));
        s.watch(k.rolloutPrefix(), RolloutRequest.class, changes -> changes.forEach(c -> byKey(s.requests, c)));
        s.watch(k.slotsPrefix(), SlotGrant.class, changes -> changes.forEach(c -> byKey(s.grants, c)));
        return s;
    }

    private static <T> void byKey(Map<String, Entry<T>> into, SliceWatch.Change<T> c) {
        if (c.kind() == SliceWatch.Kind.DELETE) {
            into.remove(c.key());
        } else {
            into.put(c.key(), c.entry());
        }
    }

    @Override
    protected void termBegan() {
        copied.clear();
        step();
    }

    /** Acts only on a whole view: a grant must never look stale because its request's watch is not in yet. */
    @Override
    protected void act(Fence f) {
        copyRegistrations(f);
        grantSlots(f);
    }

    private void copyRegistrations(Fence f) {
        for (var e : registrations.entrySet()) {
            String h = e.getKey();
            Entry<HostSpec> reg = e.getValue();
            if (hosts.contains(h) || Long.valueOf(reg.modRevision()).equals(copied.get(h))) {
                continue;
            }
            copied.put(h, reg.modRevision());
            List<FieldError> errors = reg.valid() ? Validation.check(h, reg.value())
                    : List.of(new FieldError("", reg.error()));
            if (!errors.isEmpty()) {
                log.warn("registration of host {} is invalid ({}); not copied to {}", h, errors, keys.host(h));
                continue;
            }
            if (store.commitIf(f, keys.host(h), 0, List.of(Op.put(keys.host(h), reg.value())))) {
                hosts.add(h);
                log.info("host {} registered: {}", h, Json.writeString(reg.value()));
            }
        }
    }

    private void grantSlots(Fence f) {
        // grants that no longer answer a live request stop counting at once; their keys go in the same transaction
        // as the next grant (a release hands the slot on in one etcd write), else in one of their own below
        List<Op> stale = new ArrayList<>();
        Map<String, Integer> held = new HashMap<>();
        for (Entry<SlotGrant> g : grants.values()) {
            if (!holds(g)) {
                stale.add(Op.delete(g.key()));
            } else {
                String[] ha = KeyLayout.hostAndApp(keys.slotsPrefix(), g.key());
                held.merge(ha[1], 1, Integer::sum);
            }
        }
        List<Entry<RolloutRequest>> waiting = new ArrayList<>(requests.values());
        waiting.sort(Comparator.comparingLong(Entry::createRevision));
        for (Entry<RolloutRequest> r : waiting) {
            String[] ha = KeyLayout.hostAndApp(keys.rolloutPrefix(), r.key());
            if (ha == null || r.lease() == 0 || granted(r)) {
                continue;
            }
            String host = ha[0];
            String app = ha[1];
            // the limit comes from what the leader assigned this host, never from the request
            var assigned = store.get(keys.assignment(host, app), Assignment.class);
            if (assigned.isEmpty() || !assigned.get().valid() || assigned.get().value().intent() == null) {
                continue;
            }
            int max = assigned.get().value().intent().maxUnavailableOrDefault();
            if (held.getOrDefault(app, 0) >= max) {
                continue;
            }
            String slot = keys.slot(host, app);
            SlotGrant grant = new SlotGrant(host, app, r.lease(), r.createRevision(), Instant.now());
            // the host's own stale grant (it asked again, e.g. on a new lease) is overwritten by the put: a
            // transaction may touch a key only once
            List<Op> ops = new ArrayList<>();
            stale.stream().filter(d -> !d.key().equals(slot)).forEach(ops::add);
            ops.add(Op.put(slot, grant));
            if (store.commitIf(f, r.key(), r.modRevision(), ops)) {
                dropStale(ops.subList(0, ops.size() - 1));
                stale.clear();
                grants.put(slot, new Entry<>(slot, grant, null, null, 0, 0, 0));
                held.merge(app, 1, Integer::sum);
                log.info("rollout slot of {} granted to {} ({} of {})", app, host, held.get(app), max);
            }
        }
        if (!stale.isEmpty() && store.commit(f, stale)) {
            dropStale(stale);
        }
    }

    private void dropStale(List<Op> deletes) {
        for (Op d : deletes) {
            grants.remove(d.key());
        }
    }

    /** A grant holds while the request it answers is still there, on the same lease, the same incarnation. */
    private boolean holds(Entry<SlotGrant> g) {
        String[] ha = KeyLayout.hostAndApp(keys.slotsPrefix(), g.key());
        if (ha == null || !g.valid()) {
            return false;
        }
        Entry<RolloutRequest> r = requests.get(keys.rolloutRequest(ha[0], ha[1]));
        return r != null && r.lease() != 0 && r.lease() == g.value().lease()
                && r.createRevision() == g.value().request();
    }

    private boolean granted(Entry<RolloutRequest> r) {
        String[] ha = KeyLayout.hostAndApp(keys.rolloutPrefix(), r.key());
        Entry<SlotGrant> g = grants.get(keys.slot(ha[0], ha[1]));
        return g != null && holds(g);
    }
}
