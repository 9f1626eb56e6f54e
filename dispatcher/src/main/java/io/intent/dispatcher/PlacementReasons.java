package io.intent.dispatcher;

import io.intent.store.model.Placement;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * Words a placement's pending reason from the finished plan: why instances are missing, which hosts an app stays on
 * though they are unreachable, unreadable or being left, and which stateful instances wait for their host.
 */
final class PlacementReasons {
    private final PlanInput in;
    private final SortedMap<String, HostLoad> hosts;

    PlacementReasons(PlanInput in, SortedMap<String, HostLoad> hosts) {
        this.in = in;
        this.hosts = hosts;
    }

    /**
     * The pending reason of an app placed on {@code on} that keeps {@code stay} until their replacements run
     * healthy, or null when there is nothing to say.
     *
     * @param last     the app's last move of a sick instance, or null
     * @param sickHost the host a sick instance of the app is moving off, or null
     * @param stuck    why a sick instance stays where it is, or null
     */
    String reason(PlanInput.App app, TreeSet<String> on, List<String> stay, Placement.Rescheduled last,
                  String sickHost, String stuck) {
        int scale = app.intent().scaleOrDefault();
        List<String> notes = notes(on, stay, scale, last, sickHost);
        String reason = on.size() < scale ? shortfall(app, on, scale) : null;
        reason = then(reason, waitingStateful(on));
        if (!notes.isEmpty()) {
            String note = String.join("; ", notes);
            reason = reason == null ? note : note + " (" + reason + ")";
        }
        return then(reason, stuck);
    }

    /** What a person should know about the hosts the app stays on: unreadable, held, or being left. */
    private List<String> notes(TreeSet<String> on, List<String> stay, int scale, Placement.Rescheduled last,
                               String sickHost) {
        List<String> notes = new ArrayList<>();
        for (String host : on) {
            HostLoad h = hosts.get(host);
            if (h.spec == null) {
                notes.add("host " + host + " has an unreadable spec: its instance stays as it is");
            } else if (h.held != null && !h.live && !h.graced) {
                notes.add(unreachable(host) + "; " + h.held);
            }
        }
        for (String host : stay) {
            if (host.equals(sickHost) && last != null && host.equals(last.from())) {
                notes.add("sick instance on " + host + " (" + last.reason() + ") stays until its replacement on "
                        + last.to() + " runs healthy");
            } else {
                notes.add(unreachable(host) + (on.size() < scale ? "; no other host fits"
                        : "; its instance stays until a replacement runs healthy"));
            }
        }
        return notes;
    }

    /** Why fewer than {@code scale} instances are placed, counting every host's reason. */
    private String shortfall(PlanInput.App app, TreeSet<String> on, int scale) {
        Rejections why = new Rejections();
        for (HostLoad h : hosts.values()) {
            String reject = h.rejection(app.name(), app.intent(), on);
            why.add(reject == null ? "could take it" : reject);
        }
        return "placed " + on.size() + " of " + scale + ": " + why.describe(hosts.size());
    }

    /** The note for stateful instances waiting for their dead hosts, or null. */
    private String waitingStateful(TreeSet<String> on) {
        List<String> waiting = new ArrayList<>();
        for (String host : on) {
            HostLoad h = hosts.get(host);
            if (!h.live && !h.graced && h.held == null && h.spec != null) {
                waiting.add(host);
            }
        }
        return waiting.isEmpty() ? null : "stateful: instance(s) wait for dead host(s) "
                + String.join(", ", waiting) + " to come back (drain a host to move its instance)";
    }

    private static String then(String reason, String note) {
        if (note == null) {
            return reason;
        }
        return reason == null ? note : reason + "; " + note;
    }

    private String unreachable(String host) {
        Long seconds = in.missing().get(host);
        return "host " + host + " unreachable" + (seconds == null ? "" : " for " + seconds + " s");
    }
}
