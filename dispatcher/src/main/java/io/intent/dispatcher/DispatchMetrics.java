package io.intent.dispatcher;

import io.micrometer.core.instrument.Counter;
import io.intent.daemon.ProcessMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The dispatcher's figures for {@code /metrics}; one per process, shared by every term it leads. */
public final class DispatchMetrics {
    private final Counter plans;
    private final Counter writes;
    private final Counter rejected;
    private final Timer rounds;
    private final AtomicLong lastPlanMicros = new AtomicLong();
    private final AtomicLong lastWriteMicros = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong disruption = new AtomicLong();
    private final AtomicLong unreachable = new AtomicLong();
    private final AtomicLong held = new AtomicLong();

    public DispatchMetrics(MeterRegistry registry) {
        plans = Counter.builder("intent_dispatcher_plans").description("plans computed").register(registry);
        writes = Counter.builder("intent_dispatcher_writes").description("assignment and placement writes committed")
                .register(registry);
        rejected = Counter.builder("intent_dispatcher_rejected_writes")
                .description("fenced transactions etcd refused because leadership was lost").register(registry);
        rounds = Timer.builder("intent_dispatcher_round_seconds")
                .description("one dispatch round: plan, then write the changes (if any)")
                .serviceLevelObjectives(ProcessMetrics.DISPATCH_BUCKETS).register(registry);
        registry.gauge("intent_dispatcher_last_plan_seconds", lastPlanMicros, v -> v.get() / 1e6);
        registry.gauge("intent_dispatcher_last_write_seconds", lastWriteMicros, v -> v.get() / 1e6);
        registry.gauge("intent_dispatcher_pending_apps", pending, AtomicLong::get);
        registry.gauge("intent_dispatcher_disruption_mode", disruption, AtomicLong::get);
        registry.gauge("intent_dispatcher_unreachable_hosts", unreachable, AtomicLong::get);
        registry.gauge("intent_dispatcher_held_hosts", held, AtomicLong::get);
    }

    void evacuation(Evacuation.Verdict v) {
        disruption.set(v.disruption() ? 1 : 0);
        unreachable.set(v.unreachable());
        held.set(v.held().size());
    }

    /** True while the last plan found the fleet in disruption mode (evacuation stopped). */
    public boolean disruption() {
        return disruption.get() == 1;
    }

    void planned(long nanos, long pendingApps) {
        plans.increment();
        lastPlanMicros.set(nanos / 1000);
        pending.set(pendingApps);
    }

    void wrote(int ops, long nanos) {
        writes.increment(ops);
        lastWriteMicros.set(nanos / 1000);
    }

    void round(long nanos) {
        rounds.record(nanos, TimeUnit.NANOSECONDS);
    }

    void rejected() {
        rejected.increment();
    }

    public double plans() {
        return plans.count();
    }

    public double writes() {
        return writes.count();
    }

    public double rejectedWrites() {
        return rejected.count();
    }
}
