package io.intent.setlive;

import io.intent.agent.InstallLayout;
import io.intent.agent.converge.AgentRuntime;
import io.intent.agent.converge.Reconciler;
import io.intent.store.model.Assignment;
import java.time.Duration;
import java.util.function.Function;

/** Builds the setlive agent for {@link AgentRuntime}, so the node launcher can run it beside other agents. */
public final class Setlive {
    private Setlive() {
    }

    /** The factory {@link AgentRuntime#start} takes: setlive on the context's host, root and address. */
    public static Function<AgentRuntime.Context, Reconciler<Assignment>> agent(SetliveConfig config) {
        return ctx -> {
            InstallLayout layout = new InstallLayout(ctx.options().rootDir());
            // the host's logs, for the API only (signed requests), on the agent's HTTP server
            ctx.routes().add(LogsEndpoint.PREFIX, new LogsEndpoint(ctx.host(), config.logsKeyFile(), layout,
                    config.dockerHost(), Duration.ofMillis(100)));
            // the node app's run script gets this process's own config file (SelfDeploy)
            Runtimes runtimes = Runtimes.of(layout, ctx.host(), ctx.options().address, config, ctx.options().config);
            // on the process's one lease (TTL --liveness-ttl, at least 2 s), shared with the host's liveness
            return new SetliveReconciler(ctx.store(), layout, ctx.host(), ctx.options().address, ctx.session(),
                    config, runtimes)
                    .oneShot(ctx.options().once);
        };
    }
}
