package io.intent.preparer;

import io.intent.agent.converge.AgentRuntime;
import io.intent.agent.converge.Reconciler;
import io.intent.store.model.Assignment;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Builds the preparer for an {@link AgentRuntime}, so {@code PreparerMain} and a node launcher running several
 * agents in one process make it the same way: {@code AgentRuntime.start(opts, name, List.of(agent))}. The kit binds
 * the preparer (background work requeues its app through it) and closes it when it stops: nothing else to wire.
 */
public final class PreparerAgent implements Function<AgentRuntime.Context, Reconciler<Assignment>> {
    private final UnaryOperator<PreparerSettings> tune;

    private PreparerAgent(UnaryOperator<PreparerSettings> tune) {
        this.tune = tune;
    }

    /** A factory using exactly {@code settings} (their root wins over the runtime's {@code --root}). */
    public static PreparerAgent factory(PreparerSettings settings) {
        return new PreparerAgent(ignored -> settings);
    }

    /** A factory deriving settings from the runtime's {@code --root}: defaults, then {@code tune}. */
    public static PreparerAgent factory(UnaryOperator<PreparerSettings> tune) {
        return new PreparerAgent(tune);
    }

    @Override
    public Reconciler<Assignment> apply(AgentRuntime.Context ctx) {
        PreparerSettings s = tune.apply(PreparerSettings.defaults(ctx.options().rootDir()));
        try {
            Preparer p = new Preparer(s);
            ctx.metrics().gauge("intent_preparer_running", List.of(Tag.of("host", ctx.host())), p,
                    Preparer::running);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the preparer under " + s.root(), e);
        }
    }
}
