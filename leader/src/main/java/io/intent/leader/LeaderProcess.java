package io.intent.leader;

import io.intent.dispatcher.ChannelFollower;
import io.intent.dispatcher.DispatchMetrics;
import io.intent.dispatcher.Dispatcher;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Fence;
import io.intent.store.etcd.Session;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A leader candidate with its dispatcher and its release-channel follower: both follow the store as a hot standby
 * from the start, dispatch for each term the candidate wins, and stand down the moment the term ends. A write
 * refused by the fence ends the term too. It owns the process's {@link Session} (the election key's lease) and
 * closes it last.
 */
public final class LeaderProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderProcess.class);

    private final Session session;
    private final Dispatcher dispatcher;
    private final ChannelFollower channels;
    private final AtomicInteger leading = new AtomicInteger();
    private final AtomicInteger terms = new AtomicInteger();
    private volatile LeaderElection election;

    private LeaderProcess(Session session, String name, Dispatcher.Settings settings, MeterRegistry registry,
                          ChannelFollower.Settings channelSettings) {
        EtcdStore store = session.store();
        this.session = session;
        DispatchMetrics metrics = new DispatchMetrics(registry);
        registry.gauge("intent_leader_is_leader", leading, AtomicInteger::get);
        io.micrometer.core.instrument.FunctionCounter.builder("intent_leader_terms", terms, AtomicInteger::get)
                .description("terms this candidate has led since it started").register(registry);
        this.dispatcher = Dispatcher.follow(store, name, settings, metrics,
                fence -> stepDown(fence, "a fenced write was refused"));
        this.channels = ChannelFollower.follow(store, name, channelSettings);
        this.election = LeaderElection.start(session, name, dispatching(dispatcher, channels, leading, terms));
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

    /** A candidate on a session of its own with lease TTL {@code ttl} (the process's, if nothing else runs in it). */
    public static LeaderProcess start(EtcdStore store, String name, Duration ttl, Dispatcher.Settings settings,
                                      MeterRegistry registry) {
        return start(Session.open(store, ttl), name, settings, registry, ChannelFollower.Settings.defaults());
    }

    /** A candidate on {@code session}, which it closes when it closes, with the channel follower's own settings. */
    public static LeaderProcess start(Session session, String name, Dispatcher.Settings settings,
                                      MeterRegistry registry, ChannelFollower.Settings channelSettings) {
        return new LeaderProcess(session, name, settings, registry, channelSettings);
    }

    public boolean leading() {
        return leading.get() == 1;
    }

    public LeaderElection election() {
        return election;
    }

    /** Resigns (the standby takes over within a round trip), stops dispatching, and revokes the session's lease. */
    @Override
    public void close() {
        election.close();
        dispatcher.close();
        channels.close();
        session.close();
    }
}
