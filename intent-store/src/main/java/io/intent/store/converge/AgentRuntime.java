package io.intent.store.converge;

import io.intent.store.config.AgentOptions;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Resources;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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
    public record Context(EtcdStore store, AgentOptions options, String host, PrometheusMeterRegistry metrics) {
    }

    private final EtcdStore store;
    private final HostPresence presence;
    private final List<Converger<Assignment>> convergers;
    private final AgentServer server;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private AgentRuntime(EtcdStore store, HostPresence presence, List<Converger<Assignment>> convergers,
                         AgentServer server) {
        this.store = store;
        this.presence = presence;
        this.convergers = convergers;
        this.server = server;
    }

    /** Starts everything and returns; {@link #close()} stops it. */
    public static AgentRuntime start(AgentOptions opts, String agentName,
                                     List<Function<Context, Reconciler<Assignment>>> factories) {
        Logging.init();
        String host = opts.hostName();
        EtcdStore store = EtcdStore.connect(opts.etcd.toConfig());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Context ctx = new Context(store, opts, host, metrics);
        HostSpec detected = HostPresence.detect(opts.address, opts.labels);
        HostSpec spec = new HostSpec(opts.labels, new Resources(
                opts.cpu != null ? opts.cpu : detected.capacity().cpu(),
                opts.memoryMb != null ? opts.memoryMb : detected.capacity().memoryMb()), opts.address, false);
        HostPresence presence = HostPresence.start(store, host, spec, agentName,
                Duration.ofSeconds(opts.livenessTtlSeconds));
        Converger.Settings settings = Converger.Settings.defaults()
                .withResync(Duration.ofSeconds(Math.max(1, opts.resyncSeconds)));
        List<Converger<Assignment>> convergers = new ArrayList<>();
        for (var f : factories) {
            Reconciler<Assignment> r = f.apply(ctx);
            convergers.add(new Converger<>(store, host, store.keys().assignSlice(host), Assignment.class, r,
                    settings, metrics).start());
        }
        AgentServer server = null;
        if (opts.httpPort >= 0) {
            server = AgentServer.start("127.0.0.1", opts.httpPort, metrics, () -> health(convergers));
            log.info("{} on host {}: /healthz and /metrics on http://127.0.0.1:{}", agentName, host, server.port());
        }
        log.info("{} on host {} started; watching {}", agentName, host, store.keys().assignSlice(host));
        return new AgentRuntime(store, presence, convergers, server);
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

    public List<Converger<Assignment>> convergers() {
        return convergers;
    }

    public EtcdStore store() {
        return store;
    }

    /** Blocks until SIGTERM/SIGINT (or {@link #close()}), then shuts down. */
    public void runUntilSignalled() throws InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "shutdown"));
        stopped.await();
    }

    @Override
    public synchronized void close() {
        if (stopped.getCount() == 0) {
            return;
        }
        log.info("shutting down: finishing in-flight work; apps keep running");
        convergers.forEach(Converger::close);
        presence.close();
        if (server != null) {
            server.close();
        }
        store.close();
        stopped.countDown();
    }
}
