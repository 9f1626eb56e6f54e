package io.intent.leader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.intent.dispatcher.LeaderTerm;
import io.intent.store.KeyLayout;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** etcd's revision history of a prefix, read back with a watch from revision 1, and the fencing audit over it. */
final class History {
    /** One change as etcd recorded it. */
    record Event(long revision, String key, boolean put, byte[] value, long createRevision) {
    }

    private History() {
    }

    /** Every change under {@code prefix} from revision 1 up to the store's current revision. */
    static List<Event> read(EtcdStore store, String prefix) throws InterruptedException {
        long head = store.revision();
        List<Event> events = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Object lock = new Object();
        Watch.Watcher w = store.client().getWatchClient().watch(ByteSequence.from(prefix, StandardCharsets.UTF_8),
                WatchOption.builder().isPrefix(true).withRevision(1).withProgressNotify(true).build(),
                Watch.listener(resp -> {
                    synchronized (lock) {
                        for (WatchEvent e : resp.getEvents()) {
                            var kv = e.getKeyValue();
                            events.add(new Event(kv.getModRevision(), kv.getKey().toString(StandardCharsets.UTF_8),
                                    e.getEventType() == WatchEvent.EventType.PUT, kv.getValue().getBytes(),
                                    kv.getCreateRevision()));
                        }
                        long seen = resp.getEvents().isEmpty() ? resp.getHeader().getRevision()
                                : events.get(events.size() - 1).revision();
                        if (seen >= head) {
                            done.countDown();
                        }
                    }
                }, err -> done.countDown()));
        // an idle prefix gets no event at the head revision: put a marker so the watch reaches it
        store.put(prefix + "zz-history-marker", Map.of("at", head));
        try {
            if (!done.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("history of " + prefix + " not read within 30 s");
            }
        } finally {
            w.close();
        }
        synchronized (lock) {
            return new ArrayList<>(events);
        }
    }

    /**
     * Checks that every write under {@code assign/} and {@code placement/} was made by the leader of the moment:
     * the transaction's term stamp (same revision) names a fence, and at that revision that fence's key was the
     * election key with the lowest create revision, i.e. the leader. Returns the number of audited writes per
     * fence revision.
     */
    static Map<Long, Integer> auditDispatchWrites(List<Event> events, KeyLayout keys) {
        String electionPrefix = keys.election() + "/";
        String stampKey = LeaderTerm.key(keys);
        TreeMap<Long, List<Event>> byRevision = new TreeMap<>();
        events.forEach(e -> byRevision.computeIfAbsent(e.revision(), r -> new ArrayList<>()).add(e));
        Map<String, Long> candidates = new TreeMap<>();
        Map<Long, Integer> writesByFence = new TreeMap<>();
        for (var rev : byRevision.entrySet()) {
            List<Event> dispatch = rev.getValue().stream().filter(e -> e.key().startsWith(keys.assignPrefix())
                    || e.key().startsWith(keys.placementPrefix())).toList();
            if (!dispatch.isEmpty()) {
                Event stamp = rev.getValue().stream().filter(e -> e.key().equals(stampKey) && e.put()).findFirst()
                        .orElse(null);
                assertNotNull(stamp, "writes at revision " + rev.getKey() + " carry no term stamp: " + dispatch);
                LeaderTerm term = Json.read(stamp.value(), LeaderTerm.class);
                var leader = candidates.entrySet().stream().min(Map.Entry.comparingByValue()).orElse(null);
                assertNotNull(leader, "writes at revision " + rev.getKey() + " while nobody led");
                assertEquals(leader.getKey() + "@" + leader.getValue(), term.fenceKey() + "@" + term.fenceRevision(),
                        "revision " + rev.getKey() + " was written by " + term.leader() + " under a fence that was not"
                                + " the leader's at that revision");
                writesByFence.merge(term.fenceRevision(), dispatch.size(), Integer::sum);
            }
            for (Event e : rev.getValue()) {
                if (e.key().startsWith(electionPrefix)) {
                    if (e.put()) {
                        candidates.putIfAbsent(e.key(), e.createRevision());
                    } else {
                        candidates.remove(e.key());
                    }
                }
            }
        }
        return writesByFence;
    }
}
