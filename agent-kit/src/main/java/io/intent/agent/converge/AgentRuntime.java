package io.intent.agent.converge;

import io.intent.agent.config.AgentOptions;
import io.intent.daemon.AgentServer;
import io.intent.daemon.Logging;
import io.intent.daemon.ProcessMetrics;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Session;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Resources;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one or more agents of one host in this process: connects to etcd, opens the process's one lease
 * ({@link Session}, TTL {@code --liveness-ttl}) that the host's liveness and every agent's leased keys hang on,
 * registers the host and keeps its liveness, runs a {@link Converger} per reconciler over {@code /intent/assign/<host>/}, serves /healthz and
 * /metrics, and shuts down gracefully on SIGTERM (in-flight reconciles finish; apps keep running).
 *
 * <p>Long because its three ways to run (started, until signalled, once) share one start-up that a stop may cut at
 * any step ({@link #own}); split, each would have to re-prove that.
 */
public final class AgentRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

    /**
     * What a reconciler factory gets to build its agent with; {@code session} is the process's one lease, shared by
     * every agent of the process and revoked by the runtime after they have all stopped.
     */
    public record Context(EtcdStore store, Session session, AgentOptions options, String host,
                          PrometheusMeterRegistry metrics, AgentServer.Routes routes) {
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
    private volatile PrometheusMeterRegistry metrics;
    private HostPresence presence;
    private Session session;
    private AgentServer server;

    private AgentRuntime() {
    }

    /** Starts everything and returns; {@link #close()} stops it. */
    public static AgentRuntime start(AgentOptions opts, String agentName,
                                     List<Function<Context, Reconciler<Assignment>>> factories) {
        AgentRuntime rt = new AgentRuntime();
        rt.boot(opts, agentName, factories, false);
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
            rt.boot(opts, agentName, factories, true);
            started.accept(rt);
        } catch (Stopped e) {
            log.info("{}: signalled during start-up; stopped what had started", agentName);
        }
        rt.stopped.await();
    }

    /**
     * The one-shot mode ({@code --once}) as a process's main: refuses (exit {@link AgentLock#HELD_EXIT_CODE}) when
     * a daemon of one of the agents holds its lock on this root; else reads the slice once, converges every name
     * (all agents at once, each retrying within {@code --once-timeout}), writes statuses, prints a summary and
     * returns 0 when everything converged, 1 otherwise. No liveness key, no watch, no HTTP server; apps started
     * keep running. {@code started} gets the runtime before the run, {@code alsoClose} is closed after it.
     */
    public static int runOnce(AgentOptions opts, String agentName,
                              List<Function<Context, Reconciler<Assignment>>> factories,
                              Consumer<AgentRuntime> started, java.io.PrintStream out, AutoCloseable... alsoClose)
            throws InterruptedException {
        AgentRuntime rt = new AgentRuntime();
        rt.extras.addAll(List.of(alsoClose));
        Runtime.getRuntime().addShutdownHook(new Thread(rt::close, "shutdown"));
        Logging.init();
        String host = opts.hostName();
        long deadline = System.nanoTime() + Duration.ofSeconds(Math.max(1, opts.onceTimeoutSeconds)).toNanos();
        try {
            PrometheusMeterRegistry metrics = ProcessMetrics.registry();
            EtcdStore etcd = EtcdStore.connect(opts.etcd.toConfig()).withMetrics(metrics);
            rt.own(etcd, () -> rt.store = etcd);
            Session s = rt.openSession(etcd, opts);
            // a one-shot run serves no HTTP: its routes are registered and never served
            Context ctx = new Context(etcd, s, opts, host, metrics, new AgentServer.Routes());
            List<Reconciler<Assignment>> reconcilers = factories.stream().map(f -> f.apply(ctx)).toList();
            AgentLock lock;
            try {
                lock = AgentLock.tryAcquire(opts.rootDir(), reconcilers.stream().map(Reconciler::agent).toList());
            } catch (AgentLock.HeldException e) {
                out.println(agentName + " --once on host " + host + ": refused: " + e.getMessage()
                        + "; the running daemon converges this host (stop it to run --once)");
                reconcilers.forEach(AgentRuntime::closeQuietly);
                return AgentLock.HELD_EXIT_CODE;
            } catch (java.io.IOException e) {
                out.println(agentName + " --once on host " + host + ": cannot lock " + opts.rootDir() + ": " + e);
                reconcilers.forEach(AgentRuntime::closeQuietly);
                return 1;
            }
            rt.own(lock, () -> rt.extras.add(lock));
            for (Reconciler<Assignment> r : reconcilers) {
                Converger<Assignment> c = new Converger<>(etcd, host, etcd.keys().assignSlice(host), Assignment.class,
                        r, Converger.Settings.defaults(), metrics);
                rt.own(c, () -> rt.convergers.add(c));
            }
            started.accept(rt);
            List<Converger.Outcome> outcomes = new CopyOnWriteArrayList<>();
            List<String> errors = new CopyOnWriteArrayList<>();
            List<Thread> threads = new java.util.ArrayList<>();
            for (Converger<Assignment> c : rt.convergers) {
                Thread t = new Thread(() -> {
                    try {
                        outcomes.addAll(c.runOnce(deadline, ONCE_GIVE_UP_AFTER));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        errors.add(c.agent() + ": " + io.intent.store.etcd.Failures.describe(e));
                    }
                }, c.agent() + "-once");
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            return summarize(agentName, host, outcomes, errors, out);
        } catch (Stopped e) {
            out.println(agentName + " --once on host " + host + ": stopped by a signal");
            return 1;
        } finally {
            rt.close();
        }
    }

    /** In {@code --once}, a name that failed this many times in a row is given up on (and reported). */
    static final int ONCE_GIVE_UP_AFTER = 3;

    /** Prints the one-shot run's summary; 0 when everything converged. */
    static int summarize(String agentName, String host, List<Converger.Outcome> outcomes, List<String> errors,
                         java.io.PrintStream out) {
        List<Converger.Outcome> bad = outcomes.stream().filter(o -> !o.converged())
                .sorted(java.util.Comparator.comparing(Converger.Outcome::name)
                        .thenComparing(Converger.Outcome::agent)).toList();
        long names = outcomes.stream().map(Converger.Outcome::name).distinct().count();
        if (bad.isEmpty() && errors.isEmpty()) {
            out.println(agentName + " --once on host " + host + ": converged (" + names + " apps, "
                    + outcomes.size() + " reconciles READY or removed)");
            return 0;
        }
        out.println(agentName + " --once on host " + host + ": NOT converged: "
                + bad.stream().map(Converger.Outcome::name).distinct().count() + " of " + names + " apps"
                + (errors.isEmpty() ? "" : ", " + errors.size() + " agents could not read their slice"));
        errors.forEach(e -> out.println("  " + e));
        bad.forEach(o -> out.println("  " + o.line()));
        return 1;
    }

    private static void closeQuietly(Object o) {
        if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("closing {}: {}", o, e.toString());
            }
        }
    }

    private void boot(AgentOptions opts, String agentName,
                      List<Function<Context, Reconciler<Assignment>>> factories, boolean lockAgents) {
        Logging.init();
        String host = opts.hostName();
        PrometheusMeterRegistry metrics = ProcessMetrics.registry();
        this.metrics = metrics;
        EtcdStore etcd = EtcdStore.connect(opts.etcd.toConfig()).withMetrics(metrics);
        own(etcd, () -> store = etcd);
        Session session = openSession(etcd, opts);
        AgentServer.Routes routes = new AgentServer.Routes();
        Context ctx = new Context(etcd, session, opts, host, metrics, routes);
        List<Reconciler<Assignment>> reconcilers = factories.stream().map(f -> f.apply(ctx)).toList();
        if (lockAgents) {
            // before the first reconcile: a one-shot run of the same agent on this root finishes first
            List<String> agents = reconcilers.stream().map(Reconciler::agent).toList();
            AgentLock lock;
            try {
                lock = AgentLock.acquire(opts.rootDir(), agents, () -> log.warn("{}: another process holds the lock"
                        + " of {} on {} (a --once run?); waiting for it", agentName, agents, opts.rootDir()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot lock " + opts.rootDir(), e);
            }
            own(lock, () -> extras.add(lock));
        }
        HostSpec detected = HostPresence.detect(opts.address, opts.labels);
        HostSpec spec = new HostSpec(opts.labels, new Resources(
                opts.cpu != null ? opts.cpu : detected.capacity().cpu(),
                opts.memoryMb != null ? opts.memoryMb : detected.capacity().memoryMb()), opts.address, false);
        HostPresence p = HostPresence.start(session, host, spec, agentName);
        own(p, () -> presence = p);
        Converger.Settings settings = Converger.Settings.defaults()
                .withResync(Duration.ofSeconds(Math.max(1, opts.resyncSeconds)));
        for (var r : reconcilers) {
            Converger<Assignment> c = new Converger<>(etcd, host, etcd.keys().assignSlice(host), Assignment.class,
                    r, settings, metrics);
            // owned before it starts: a close meanwhile closes it, and a closed converger never starts working
            own(c, () -> convergers.add(c));
            c.start();
        }
        if (opts.httpPort >= 0) {
            AgentServer s = AgentServer.start(opts.httpAddress, opts.httpPort, metrics,
                    () -> AgentHealth.health(convergers), () -> AgentHealth.readiness(convergers), routes);
            own(s, () -> server = s);
            log.info("{} on host {}: /healthz, /readyz and /metrics on http://{}:{}", agentName, host,
                    opts.httpAddress, s.port());
        }
        log.info("{} on host {} started; watching {}", agentName, host, etcd.keys().assignSlice(host));
    }

    /** The process's one lease, TTL {@code --liveness-ttl} but at least 2 s: etcd never grants less anyway. */
    private Session openSession(EtcdStore etcd, AgentOptions opts) {
        Session s = Session.open(etcd, Duration.ofSeconds(Math.max(2, opts.livenessTtlSeconds)));
        own(s, () -> this.session = s);
        return s;
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

    public List<Converger<Assignment>> convergers() {
        return convergers;
    }

    public EtcdStore store() {
        return store;
    }

    /** The meters this runtime serves on /metrics (its agents' included); null before start-up made them. */
    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    /**
     * Stops within {@link #STOP_BUDGET}: the convergers together (in-flight reconciles get their grace), then what
     * the launcher added, liveness, the session (its lease revoked, unless an agent abandoned it to a successor),
     * the HTTP server and the etcd client. Apps keep running.
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
        stop.close("presence", presence);
        stop.close("session", session, Duration.ofSeconds(2));
        stop.close("http", server);
        stop.close("etcd-client", store, Duration.ofSeconds(1));
        stopped.countDown();
    }
}
