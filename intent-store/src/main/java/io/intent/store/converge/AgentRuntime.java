package io.intent.store.converge;

import io.intent.store.config.AgentOptions;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Resources;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one or more agents of one host in this process: connects to etcd, registers the host and keeps its
 * liveness, runs a {@link Converger} per reconciler over {@code /intent/assign/<host>/}, serves /healthz and
 * /metrics, and shuts down gracefully on SIGTERM (in-flight reconciles finish; apps keep running).
 */
public final class AgentRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

    /** What a reconciler factory gets to build its agent with. */
    public record Context(EtcdStore store, AgentOptions options, String host, PrometheusMeterRegistry metrics,
                          AgentServer.Routes routes) {
    }

    /** How long a graceful stop may take in all, etcd unreachable included: within systemd's TimeoutStopSec. */
    public static final Duration STOP_BUDGET = Duration.ofSeconds(8);

    /** Thrown out of start-up when a stop (SIGTERM) came first; what had started is stopped by then. */
    static final class Stopped extends RuntimeException {
        Stopped() {
            super("stopped during start-up", null, false, false);
        }
    }

    private final Object lock = new Object();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final List<Converger<Assignment>> convergers = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> extras = new CopyOnWriteArrayList<>();
    private boolean closing;
    private volatile EtcdStore store;
    private HostPresence presence;
    private AgentServer server;

    private AgentRuntime() {
    }

    /** Starts everything and returns; {@link #close()} stops it. */
    public static AgentRuntime start(AgentOptions opts, String agentName,
                                     List<Function<Context, Reconciler<Assignment>>> factories) {
        AgentRuntime rt = new AgentRuntime();
        rt.boot(opts, agentName, factories);
        return rt;
    }

    /**
     * A process's main: installs the graceful stop on SIGTERM/SIGINT before anything starts (so a signal at
     * any point of start-up stops what has started and lets a reconcile in flight finish), starts, hands the
     * runtime to {@code started}, and blocks until stopped. {@code alsoClose} is closed after the agents.
     */
    public static void runUntilSignalled(AgentOptions opts, String agentName,
                                         List<Function<Context, Reconciler<Assignment>>> factories,
                                         Consumer<AgentRuntime> started, AutoCloseable... alsoClose)
            throws InterruptedException {
        AgentRuntime rt = new AgentRuntime();
        rt.extras.addAll(List.of(alsoClose));
        Runtime.getRuntime().addShutdownHook(new Thread(rt::close, "shutdown"));
        try {
            rt.boot(opts, agentName, factories);
            started.accept(rt);
        } catch (Stopped e) {
            log.info("{}: signalled during start-up; stopped what had started", agentName);
        }
        rt.stopped.await();
    }

    private void boot(AgentOptions opts, String agentName,
                      List<Function<Context, Reconciler<Assignment>>> factories) {
        Logging.init();
        String host = opts.hostName();
        PrometheusMeterRegistry metrics = ProcessMetrics.registry();
        EtcdStore etcd = EtcdStore.connect(opts.etcd.toConfig()).withMetrics(metrics);
        own(etcd, () -> store = etcd);
        AgentServer.Routes routes = new AgentServer.Routes();
        Context ctx = new Context(etcd, opts, host, metrics, routes);
        HostSpec detected = HostPresence.detect(opts.address, opts.labels);
        HostSpec spec = new HostSpec(opts.labels, new Resources(
                opts.cpu != null ? opts.cpu : detected.capacity().cpu(),
                opts.memoryMb != null ? opts.memoryMb : detected.capacity().memoryMb()), opts.address, false);
        HostPresence p = HostPresence.start(etcd, host, spec, agentName, Duration.ofSeconds(opts.livenessTtlSeconds));
        own(p, () -> presence = p);
        Converger.Settings settings = Converger.Settings.defaults()
                .withResync(Duration.ofSeconds(Math.max(1, opts.resyncSeconds)));
        for (var f : factories) {
            Converger<Assignment> c = new Converger<>(etcd, host, etcd.keys().assignSlice(host), Assignment.class,
                    f.apply(ctx), settings, metrics);
            // owned before it starts: a close meanwhile closes it, and a closed converger never starts working
            own(c, () -> convergers.add(c));
            c.start();
        }
        if (opts.httpPort >= 0) {
            AgentServer s = AgentServer.start(opts.httpAddress, opts.httpPort, metrics, () -> health(convergers),
                    () -> readiness(convergers), routes);
            own(s, () -> server = s);
            log.info("{} on host {}: /healthz, /readyz and /metrics on http://{}:{}", agentName, host,
                    opts.httpAddress, s.port());
        }
        log.info("{} on host {} started; watching {}", agentName, host, etcd.keys().assignSlice(host));
    }

    /** Takes a started part into this runtime, unless it is stopping: then the part is closed and start-up ends. */
    private void own(AutoCloseable part, Runnable keep) {
        synchronized (lock) {
            if (!closing) {
                keep.run();
                return;
            }
        }
        try {
            part.close();
        } catch (Exception e) {
            log.debug("closing {} after a stop during start-up: {}", part, e.toString());
        }
        throw new Stopped();
    }

    static AgentServer.Health health(List<? extends Converger<?>> convergers) {
        boolean ok = true;
        StringBuilder sb = new StringBuilder("{\"agents\":{");
        for (int i = 0; i < convergers.size(); i++) {
            var c = convergers.get(i);
            Instant contact = c.lastStoreContact();
            ok &= c.isRunning();
            sb.append(i == 0 ? "" : ",").append('"').append(c.agent()).append("\":{\"running\":")
                    .append(c.isRunning()).append(",\"lastStoreContact\":\"").append(contact)
                    .append("\",\"reconciles\":").append(c.reconciles()).append('}');
        }
        sb.append("},\"status\":\"").append(ok ? "ok" : "stopped").append("\"}");
        return new AgentServer.Health(ok, sb.toString());
    }

    /** Ready once every agent has read its slice and reconciled each name in it once. */
    static AgentServer.Health readiness(List<? extends Converger<?>> convergers) {
        boolean ok = !convergers.isEmpty();
        StringBuilder sb = new StringBuilder("{\"agents\":{");
        for (int i = 0; i < convergers.size(); i++) {
            var c = convergers.get(i);
            boolean ready = c.isRunning() && c.firstSyncDone();
            ok &= ready;
            sb.append(i == 0 ? "" : ",").append('"').append(c.agent()).append("\":{\"firstSyncDone\":")
                    .append(c.firstSyncDone()).append('}');
        }
        sb.append("},\"status\":\"").append(ok ? "ready" : "not ready").append("\"}");
        return new AgentServer.Health(ok, sb.toString());
    }

    public List<Converger<Assignment>> convergers() {
        return convergers;
    }

    public EtcdStore store() {
        return store;
    }

    /**
     * Stops within {@link #STOP_BUDGET}: the convergers together (in-flight reconciles get their grace), then what
     * the launcher added, liveness (lease revoked), the HTTP server and the etcd client. Apps keep running.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
        }
        log.info("shutting down: finishing in-flight work; apps keep running");
        BoundedStop stop = new BoundedStop(STOP_BUDGET);
        stop.closeTogether("converger", convergers);
        for (AutoCloseable extra : extras) {
            stop.close("extra", extra);
        }
        // an etcd that does not answer at once is gone: the lease then expires after its TTL anyway
        stop.close("presence", presence, Duration.ofSeconds(2));
        stop.close("http", server);
        stop.close("etcd-client", store, Duration.ofSeconds(1));
        stopped.countDown();
    }
}
