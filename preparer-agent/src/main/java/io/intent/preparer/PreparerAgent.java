package io.intent.preparer;

import io.intent.store.converge.AgentRuntime;
import io.intent.store.converge.Converger;
import io.intent.store.converge.Reconciler;
import io.intent.store.model.Assignment;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Builds the preparer for an {@link AgentRuntime}, so {@code PreparerMain} and a node launcher running several
 * agents in one process make it the same way: {@code AgentRuntime.start(opts, name, List.of(agent))}, then
 * {@link #attach} so background work wakes its app as soon as it ends (without it the agent still converges,
 * by polling once a second).
 */
public final class PreparerAgent implements Function<AgentRuntime.Context, Reconciler<Assignment>> {
    private final UnaryOperator<PreparerSettings> tune;
    private final Map<String, Preparer> built = new ConcurrentHashMap<>();

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
            built.put(ctx.host(), p);
            ctx.metrics().gauge("intent_preparer_running", List.of(Tag.of("host", ctx.host())), p,
                    Preparer::running);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the preparer under " + s.root(), e);
        }
    }

    /** Wires wake-ups from background work to the runtime's preparer converger. */
    public void attach(AgentRuntime runtime) {
        for (Converger<Assignment> c : runtime.convergers()) {
            if (c.agent().equals(Preparer.AGENT)) {
                built.values().forEach(p -> p.onWorkDone(c::enqueue));
            }
        }
    }

    /** Stops background work of every preparer built. */
    public void close() {
        for (Preparer p : built.values()) {
            try {
                p.close();
            } catch (IOException e) {
                // closing a docker client: nothing left to do
            }
        }
    }
}
