package io.intent.leader;

import io.intent.dispatcher.DispatchMetrics;
import io.intent.dispatcher.Dispatcher;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A leader candidate with its dispatcher: the dispatcher follows the store as a hot standby from the start,
 * dispatches for each term the candidate wins, and stands down the moment the term ends. A write refused by
 * the fence ends the term too.
 */
public final class LeaderProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderProcess.class);

    private final Dispatcher dispatcher;
    private final AtomicInteger leading = new AtomicInteger();
    private final AtomicInteger terms = new AtomicInteger();
    private volatile LeaderElection election;

    private LeaderProcess(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                          MeterRegistry registry, boolean fenceOnly) {
        DispatchMetrics metrics = new DispatchMetrics(registry);
        registry.gauge("intent_leader_is_leader", leading, AtomicInteger::get);
        registry.gauge("intent_leader_terms", terms, AtomicInteger::get);
        this.dispatcher = Dispatcher.follow(store, name, settings, metrics,
                () -> stepDown("a fenced write was refused"));
        this.election = LeaderElection.start(store, name, ttl, new LeaderElection.Listener() {
            @Override
            public void elected(Fence fence) {
                terms.incrementAndGet();
                leading.set(1);
                dispatcher.lead(fence);
            }

            @Override
            public void lost(String why) {
                leading.set(0);
                dispatcher.standDown();
                log.info("dispatcher stood down: {}", why);
            }
        }, fenceOnly);
    }

    private void stepDown(String why) {
        LeaderElection e = election;
        if (e != null) {
            e.stepDown(why);
        }
    }

    public static LeaderProcess start(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                                      MeterRegistry registry) {
        return new LeaderProcess(store, name, ttl, settings, registry, false);
    }

    /** With {@code fenceOnly}, see {@link LeaderElection#start(EtcdStore, String, Duration, LeaderElection.Listener, boolean)}. */
    public static LeaderProcess start(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                                      MeterRegistry registry, boolean fenceOnly) {
        return new LeaderProcess(store, name, ttl, settings, registry, fenceOnly);
    }

    public boolean leading() {
        return leading.get() == 1;
    }

    public LeaderElection election() {
        return election;
    }

    /** Resigns (the standby takes over within a round trip) and stops dispatching. */
    @Override
    public void close() {
        election.close();
        dispatcher.close();
    }
}
