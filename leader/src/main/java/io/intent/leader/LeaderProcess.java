package io.intent.leader;

import io.intent.dispatcher.ChannelFollower;
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
 * A leader candidate with its dispatcher and its release-channel follower: both follow the store as a hot standby from the start,
 * dispatches for each term the candidate wins, and stands down the moment the term ends. A write refused by
 * the fence ends the term too.
 */
public final class LeaderProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderProcess.class);

    private final Dispatcher dispatcher;
    private final ChannelFollower channels;
    private final AtomicInteger leading = new AtomicInteger();
    private final AtomicInteger terms = new AtomicInteger();
    private volatile LeaderElection election;

    private LeaderProcess(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                          MeterRegistry registry, boolean fenceOnly, ChannelFollower.Settings channelSettings) {
        DispatchMetrics metrics = new DispatchMetrics(registry);
        registry.gauge("intent_leader_is_leader", leading, AtomicInteger::get);
        io.micrometer.core.instrument.FunctionCounter.builder("intent_leader_terms", terms, AtomicInteger::get)
                .description("terms this candidate has led since it started").register(registry);
        this.dispatcher = Dispatcher.follow(store, name, settings, metrics,
                fence -> stepDown(fence, "a fenced write was refused"));
        this.channels = ChannelFollower.follow(store, name, channelSettings);
        this.election = LeaderElection.start(store, name, ttl, dispatching(dispatcher, channels, leading, terms),
                fenceOnly);
    }

    /**
     * The election listener that runs {@code dispatcher} for each term: both calls carry the term's fence, so a
     * late {@code lost} for an ended term leaves the next term dispatching (and the gauge at 1).
     */
    static LeaderElection.Listener dispatching(Dispatcher dispatcher, AtomicInteger leading, AtomicInteger terms) {
        return dispatching(dispatcher, null, leading, terms);
    }

    /** Like {@link #dispatching(Dispatcher, AtomicInteger, AtomicInteger)}, also running {@code channels} per term. */
    static LeaderElection.Listener dispatching(Dispatcher dispatcher, ChannelFollower channels, AtomicInteger leading,
                                               AtomicInteger terms) {
        return new LeaderElection.Listener() {
            /** The fence of the term this listener was last told about, until that term is lost. */
            private Fence current;

            @Override
            public synchronized void elected(Fence fence) {
                current = fence;
                terms.incrementAndGet();
                dispatcher.lead(fence);
                if (channels != null) {
                    channels.lead(fence);
                }
                leading.set(1);
            }

            // synchronized with elected(): a late lost() of an older term changes neither the dispatcher nor the gauge
            @Override
            public synchronized void lost(Fence fence, String why) {
                // the dispatcher has already stood down itself when it was a refused write that ended the term
                dispatcher.standDown(fence);
                if (channels != null) {
                    channels.standDown(fence);
                }
                if (fence.equals(current)) {
                    current = null;
                    leading.set(0);
                    log.info("dispatcher stood down: {}", why);
                }
            }
        };
    }

    private void stepDown(Fence fence, String why) {
        LeaderElection e = election;
        if (e != null) {
            e.stepDown(fence, why);
        }
    }

    public static LeaderProcess start(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                                      MeterRegistry registry) {
        return new LeaderProcess(store, name, ttl, settings, registry, false, ChannelFollower.Settings.defaults());
    }

    /** With {@code fenceOnly}, see {@link LeaderElection#start(EtcdStore, String, Duration, LeaderElection.Listener, boolean)}. */
    public static LeaderProcess start(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                                      MeterRegistry registry, boolean fenceOnly) {
        return new LeaderProcess(store, name, ttl, settings, registry, fenceOnly, ChannelFollower.Settings.defaults());
    }

    /** With the channel follower's own settings (how often fed channels are polled). */
    public static LeaderProcess start(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                                      MeterRegistry registry, boolean fenceOnly,
                                      ChannelFollower.Settings channelSettings) {
        return new LeaderProcess(store, name, ttl, settings, registry, fenceOnly, channelSettings);
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
        channels.close();
    }
}
