package io.intent.setlive;

import io.intent.store.InstallLayout;
import io.intent.store.converge.AgentRuntime;
import io.intent.store.converge.Reconciler;
import io.intent.store.model.Assignment;
import java.time.Duration;
import java.util.function.Function;

/** Builds the setlive agent for {@link AgentRuntime}, so the node launcher can run it beside other agents. */
public final class Setlive {
    private Setlive() {
    }

    /** The factory {@link AgentRuntime#start} takes: setlive on the context's host, root and address. */
    public static Function<AgentRuntime.Context, Reconciler<Assignment>> agent(SetliveConfig config) {
        return ctx -> new SetliveReconciler(ctx.store(), new InstallLayout(ctx.options().rootDir()), ctx.host(),
                ctx.options().address, Duration.ofSeconds(Math.max(2, ctx.options().livenessTtlSeconds)), config)
                .node(ctx.options().config, ctx.options().once);
    }
}
