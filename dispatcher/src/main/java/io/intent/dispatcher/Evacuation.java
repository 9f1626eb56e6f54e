package io.intent.dispatcher;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Decides which dead hosts may have their instances replaced now, and which must keep them: the dispatcher's
 * brake against its own side of a partition. Two rules, in this order:
 * <ol>
 *   <li><b>Disruption mode.</b> When more than {@code threshold} of the hosts that count (registered, not
 *       draining) are unreachable (live key missing, in grace or past it), no host is evacuated: from where the
 *       dispatcher stands, a partition that cut it off from most hosts looks exactly like most hosts dying, and
 *       moving everything would restart the whole fleet when the network heals. The mode ends as soon as the
 *       share is back at or under the threshold.</li>
 *   <li><b>Rate limit.</b> Outside disruption mode, at most {@code perMinute} dead hosts start being evacuated
 *       within any 60 s; the others wait their turn, oldest missing first. A host once admitted stays admitted
 *       until it is live again (or no longer registered), so its replacements are not torn back.</li>
 * </ol>
 * Only the decision lives here; times are {@link System#nanoTime()} values passed in, so it is tested without
 * waiting. Not thread-safe: the dispatcher's single thread owns it.
 */
public final class Evacuation {
    private static final long MINUTE = Duration.ofMinutes(1).toNanos();

    /** The policy's knobs: the unreachable share that stops evacuation, and how many hosts a minute may start. */
    public record Limits(double threshold, int perMinute) {
        public Limits {
            if (!(threshold > 0 && threshold <= 1)) {
                throw new IllegalArgumentException("disruption threshold must be in (0, 1], got " + threshold);
            }
            if (perMinute < 1) {
                throw new IllegalArgumentException("evacuations per minute must be at least 1, got " + perMinute);
            }
        }

        public static Limits defaults() {
            return new Limits(0.55, 6);
        }
    }

    /**
     * The verdict for one plan.
     *
     * @param disruption  true while evacuation is stopped because too many hosts are unreachable
     * @param unreachable how many of the counted hosts are unreachable
     * @param counted     how many hosts count (registered, not draining)
     * @param held        dead hosts that keep their instances now, with the reason a person reads
     * @param nextTurn    when a host waiting its turn may be admitted (nanoTime), {@code Long.MAX_VALUE} if none waits
     */
    public record Verdict(boolean disruption, int unreachable, int counted, SortedMap<String, String> held,
                          long nextTurn) {
        public Verdict {
            held = Collections.unmodifiableSortedMap(new TreeMap<>(held));
        }
    }

    private final Limits limits;
    private final SortedSet<String> admitted = new TreeSet<>();
    private final Deque<Long> admissions = new ArrayDeque<>();

    public Evacuation(Limits limits) {
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    /**
     * Decides for one plan.
     *
     * @param counted     the hosts that count: registered and not draining
     * @param unreachable of those, the hosts whose live key is missing (in grace or dead)
     * @param dead        hosts past their grace period that run instances which would move, with the nanoTime
     *                    they went missing (earliest first gets the first turn)
     * @param now         the current nanoTime
     */
    public Verdict decide(Set<String> counted, Set<String> unreachable, Map<String, Long> dead, long now) {
        admitted.retainAll(dead.keySet());
        int down = (int) unreachable.stream().filter(counted::contains).count();
        boolean disruption = !counted.isEmpty() && down > limits.threshold() * counted.size();
        SortedMap<String, String> held = new TreeMap<>();
        if (disruption) {
            String why = "disruption mode: " + down + " of " + counted.size() + " hosts unreachable (over "
                    + percent(limits.threshold()) + "); nothing moves off an unreachable host until more are back";
            dead.keySet().forEach(h -> held.put(h, why));
            return new Verdict(true, down, counted.size(), held, Long.MAX_VALUE);
        }
        while (!admissions.isEmpty() && now - admissions.peekFirst() >= MINUTE) {
            admissions.pollFirst();
        }
        long nextTurn = Long.MAX_VALUE;
        var waiting = dead.entrySet().stream().filter(e -> !admitted.contains(e.getKey()))
                .sorted(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).toList();
        for (String h : waiting) {
            if (admissions.size() < limits.perMinute()) {
                admissions.addLast(now);
                admitted.add(h);
            } else {
                held.put(h, "waiting its turn to be evacuated (at most " + limits.perMinute()
                        + " host(s) a minute)");
                nextTurn = admissions.peekFirst() + MINUTE;
            }
        }
        return new Verdict(false, down, counted.size(), held, nextTurn);
    }

    /** Hosts admitted for evacuation and still dead, in name order. */
    public SortedSet<String> admitted() {
        return Collections.unmodifiableSortedSet(admitted);
    }

    private static String percent(double share) {
        return Math.round(share * 100) + " %";
    }
}
