package io.intent.setlive;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * setlive's decisions, as pure functions of what the reconcile read (the runtime, {@code current}, the pending
 * switch and the restart book on disk): what to do with an app ({@link #decide}), whether a switch may stop a
 * serving instance ({@link Switch#waitsForSlot}), and what one health check of a pending switch means
 * ({@link #afterProbe}). {@link SetliveReconciler} reads the facts and {@link SwitchExecutor} does what they say.
 */
final class SwitchPlan {
    private SwitchPlan() {
    }

    /**
     * What one reconcile found for an app, all read before deciding.
     *
     * @param wantPrint      the runtime's fingerprint of the wanted spec
     * @param version        the wanted (active) version
     * @param inFlight       the switch waiting for health on disk, if any
     * @param now            what the wanted runtime has for the app
     * @param current        the version {@code current} points at, or null
     * @param otherHas       whether the other runtime still has the app (a runtime change)
     * @param installed      the versions of the app with a complete install
     * @param node           whether the app is the node itself ({@link SelfDeploy#APP})
     * @param nodeIsThisProcess whether what runs for the node app is this very process
     * @param handedOver     whether this process has asked runit to replace it with the node its switch started
     * @param book           the app's restart record on disk (the crash-loop backoff of failed switches)
     * @param at             the time of the reconcile
     */
    record Facts(String wantPrint, String version, Optional<PendingSwitch> inFlight,
                 Optional<AppRuntime.Instance> now, String current, boolean otherHas, Set<String> installed,
                 boolean node, boolean nodeIsThisProcess, boolean handedOver, RestartRecord book, Instant at) {

        /** Live with the wanted spec: same fingerprint and {@code current} on the wanted version. */
        boolean sameSpec() {
            return now.isPresent() && wantPrint.equals(now.get().fingerprint()) && version.equals(current);
        }
    }

    /** What to do with an app. */
    sealed interface Plan permits Steady, ContinueSwitch, HandedOver, WatchdogRolledBack, BackOff, Switch {
    }

    /** Live with the wanted spec: no switch; probe it (liveness) and keep the endpoint right. */
    record Steady() implements Plan {
    }

    /** The switch on disk is still what runs and what is wanted: go on waiting for its health. */
    record ContinueSwitch(PendingSwitch pending) implements Plan {
    }

    /**
     * This node has asked runit to replace it with the node its switch started: touch nothing, that node finishes
     * (or rolls back) the switch. Until runit stops this process, the node's health endpoint is still this process
     * answering, so a health check here would wrongly pass the new build and disarm the run script's watchdog.
     */
    record HandedOver(PendingSwitch pending) implements Plan {
    }

    /** The node's run script went back to the last healthy build (the new one did not start): finish that. */
    record WatchdogRolledBack(PendingSwitch pending) implements Plan {
    }

    /** The wanted spec failed before and its crash-loop backoff (on disk) runs until {@code until}: touch nothing. */
    record BackOff(Instant until, String failure) implements Plan {
        Duration left(Instant at) {
            return Duration.between(at, until);
        }
    }

    /**
     * Stop what runs (if anything), swap {@code current}, start the wanted spec.
     *
     * @param needsSlot     an instance runs, so a rollout slot is asked for before it is stopped
     * @param previous      the last healthy spec to roll back to (its install complete), or null
     * @param carriedSlot   the superseded switch on disk already holds a slot
     * @param priorFailures how many times in a row the wanted spec failed before (for the backoff)
     * @param replaceSelf   the node app whose instance is this process: it has runit restart it instead
     * @param supersedes    the pending switch this one replaces, or null
     */
    record Switch(boolean needsSlot, LaunchSpec previous, boolean carriedSlot, int priorFailures,
                  boolean replaceSelf, PendingSwitch supersedes) implements Plan {

        /**
         * Whether the switch must wait for a slot: never take a serving instance down without one. Whether it
         * serves is asked only when no slot was granted (a slot taken for an instance that turns out not to serve
         * is harmless: it goes back once the new one is healthy).
         */
        boolean waitsForSlot(boolean granted, BooleanSupplier serves) {
            return needsSlot && !granted && serves.getAsBoolean();
        }

        /** Whether the switch holds a slot once under way: granted now, or carried over from the one it replaces. */
        boolean holdsSlot(boolean granted) {
            return granted || carriedSlot;
        }
    }

    /** Decides what to do with an app from what the reconcile read; the order is the order of precedence. */
    static Plan decide(Facts f) {
        if (f.inFlight().isPresent()) {
            PendingSwitch p = f.inFlight().get();
            if (f.node() && f.handedOver()) {
                return new HandedOver(p);
            }
            if (watchdogRolledBack(f, p)) {
                return new WatchdogRolledBack(p);
            }
            if (stillConfigured(f, p) && p.wantedFingerprint().equals(f.wantPrint())) {
                return new ContinueSwitch(p);
            }
            // superseded (the operator moved on) or never started (an agent crash): switch afresh below
        }
        boolean sameSpec = f.sameSpec();
        if (sameSpec && f.now().get().up() && !f.otherHas()) {
            return new Steady();
        }
        RestartRecord r = f.book();
        if (f.wantPrint().equals(r.failedFingerprint()) && r.backingOffSwitch(f.at())) {
            // a resync or an agent restart must not defeat the crash-loop backoff: report the failure, touch nothing
            return new BackOff(r.failedNotBefore(), r.failedMessage());
        }
        boolean running = f.now().isPresent() && f.now().get().up() || f.otherHas();
        // what to go back to if this fails: the last healthy spec of a switch still in flight, else what ran
        Optional<LaunchSpec> previous = (f.inFlight().isPresent()
                ? Optional.ofNullable(f.inFlight().get().lastHealthy())
                : f.now().filter(i -> i.spec() != null && !sameSpec).map(AppRuntime.Instance::spec))
                .filter(p -> f.installed().contains(p.version()));
        boolean carried = f.inFlight().map(PendingSwitch::slot).orElse(false);
        boolean replaceSelf = f.node() && f.now().isPresent() && f.nodeIsThisProcess();
        return new Switch(running, previous.orElse(null), carried, r.failedAttemptsOf(f.wantPrint()), replaceSelf,
                f.inFlight().orElse(null));
    }

    /** The node app's run script fell back to the previous build while its new build was waited for. */
    private static boolean watchdogRolledBack(Facts f, PendingSwitch p) {
        return f.node() && !p.rollingBack() && p.previous() != null && p.startedAt() != null
                && !p.previous().version().equals(p.started().version())
                && p.previous().version().equals(f.current());
    }

    /**
     * What the switch started is what is there; a started version that keeps crashing counts too (Docker then
     * lists no running container, or none at all, or an older one): it is waited for until the timeout.
     */
    static boolean stillConfigured(Facts f, PendingSwitch p) {
        return !f.otherHas() && p.startedAt() != null
                && (f.now().isEmpty() || !f.now().get().up() || p.fingerprint().equals(f.now().get().fingerprint()))
                && p.started().version().equals(f.current());
    }

    /** What one health check of a pending switch leads to. */
    enum Outcome {
        /** Not healthy yet, within the timeout: check again later. */
        WAIT,
        /** A one-shot run started the node under runit: that node finishes its own health wait. */
        HAND_OVER_TO_NODE,
        /** The new spec is healthy: publish, give the slot back. */
        SWITCHED,
        /** The new spec timed out: stop it and start the last healthy one again. */
        ROLL_BACK,
        /** The new spec timed out and there is nothing installed to go back to: stop it. */
        STOP,
        /** The new node is this process and timed out: have runit restart into the last healthy build. */
        RESTART_NODE_INTO_PREVIOUS,
        /** The new node is this process, timed out, and there is no earlier build: leave it running. */
        LEAVE_NODE_RUNNING,
        /** The rollback is healthy: the previous spec serves again. */
        ROLLED_BACK,
        /** The rollback timed out too: stop it; nothing serves and the slot stays held. */
        ROLLBACK_FAILED
    }

    /**
     * What a health check of {@code p} at {@code at} means.
     *
     * @param backInstalled whether {@code p}'s previous spec still has a complete install
     * @param selfIsNew     whether the node app's new instance is this very process
     * @param oneShot       whether this is a one-shot ({@code --once}) run
     */
    static Outcome afterProbe(PendingSwitch p, boolean healthy, Instant at, Duration timeout, boolean backInstalled,
                              boolean node, boolean selfIsNew, boolean oneShot) {
        switch (p.judge(healthy, at, timeout)) {
            case WAIT:
                return oneShot && node && p.startedAt() != null ? Outcome.HAND_OVER_TO_NODE : Outcome.WAIT;
            case HEALTHY:
                return p.rollingBack() ? Outcome.ROLLED_BACK : Outcome.SWITCHED;
            default:
                if (p.rollingBack()) {
                    return Outcome.ROLLBACK_FAILED;
                }
                boolean canGoBack = p.previous() != null && backInstalled;
                if (selfIsNew) {
                    return canGoBack ? Outcome.RESTART_NODE_INTO_PREVIOUS : Outcome.LEAVE_NODE_RUNNING;
                }
                return canGoBack ? Outcome.ROLL_BACK : Outcome.STOP;
        }
    }

    /**
     * How many times in a row the switch to {@code p}'s spec has now failed: counted from the records on disk (the
     * restart book, the switch record), so a restarted agent, or a node that replaced itself, keeps growing the
     * backoff.
     */
    static int attemptsAfterFailure(PendingSwitch p, RestartRecord book) {
        return Math.max(p.attempts() + 1, book.failedAttemptsOf(p.fingerprint()) + 1);
    }
}
