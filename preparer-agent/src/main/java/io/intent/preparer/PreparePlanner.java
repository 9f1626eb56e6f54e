package io.intent.preparer;

import io.intent.agent.InstallLayout;
import io.intent.store.codec.FieldError;
import io.intent.store.codec.Validation;
import io.intent.agent.converge.Result;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.Phase;
import io.intent.store.model.VersionSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The preparer's decision step, a pure function: given an app's assignment and what the host has (installs on
 * disk, work running or ended), what to do now: which versions to fetch, which failures to report, which installs
 * to remove, and the status to write. {@link Preparer} looks at the host, asks this, and does what it says.
 */
final class PreparePlanner {
    /** How often a reconcile looks again while work runs, to report its progress. */
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

    private PreparePlanner() {
    }

    /**
     * Background work for one version, as the executor found it.
     *
     * @param failure why ended work left no complete install (null while it runs)
     * @param reported whether a reconcile has reported that failure (then it is retried only after the backoff)
     */
    record Work(VersionSpec spec, boolean running, long bytesDone, long bytesTotal, String failure,
                boolean reported) {
        static Work running(VersionSpec spec, long bytesDone, long bytesTotal) {
            return new Work(spec, true, bytesDone, bytesTotal, null, false);
        }

        static Work ended(VersionSpec spec, String failure, boolean reported) {
            return new Work(spec, false, 0, -1, failure, reported);
        }
    }

    /**
     * One app on this host as the executor found it.
     *
     * @param onDisk        version directories under {@code installs/<app>/} (not the {@code .tmp-*} ones)
     * @param current       the version {@code apps/<app>/current} points to, or null
     * @param currentSha256 the sha256 the marker of {@code current}'s install records when it is listed, or null
     * @param complete      listed versions whose install is complete as the intent asks (marker, digest, image)
     * @param work          work started for the app's versions, running or ended, by version
     * @param backingOff    whether the kit's backoff for the app still runs (a failure waits for it)
     */
    record Observed(Set<String> onDisk, String current, String currentSha256, Set<String> complete,
                    Map<String, Work> work, boolean backingOff) {
        Observed {
            onDisk = Set.copyOf(onDisk);
            complete = Set.copyOf(complete);
            work = Map.copyOf(work);
        }
    }

    /**
     * What to do now.
     *
     * @param start        versions to fetch and install in the background (their old work record is replaced)
     * @param firstReports failures reported for the first time, by version (the executor marks them reported)
     * @param forget       versions whose ended work record is dropped
     * @param remove       installs to delete: no longer listed, not current, no work running
     * @param removeAppDir whether {@code installs/<app>/} goes too once empty (nothing is listed)
     */
    record Plan(Result result, List<String> start, Map<String, String> firstReports, Set<String> forget,
                List<String> remove, boolean removeAppDir) {
    }

    /**
     * Why the preparer cannot act on this assignment at all (no intent, or invalid versions, runtime or name),
     * as the status to report; empty when it can. Checked before anything on disk is looked at.
     */
    static Optional<Result> refusal(String app, Assignment a) {
        AppIntent intent = a.intent();
        if (intent == null) {
            return Optional.of(Result.failed(null, a.appRevision(), "assignment has no intent"));
        }
        List<String> problems = new ArrayList<>();
        for (FieldError e : Validation.check(app, intent)) {
            if (e.field().startsWith("versions") || e.field().equals("runtime") || e.field().equals("name")) {
                problems.add(e.toString());
            }
        }
        if (problems.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Result.failed(intent.active(), a.appRevision(),
                "cannot prepare: " + String.join("; ", problems)));
    }

    /** The plan for an app no longer assigned here: remove what may go, wait for running work to end. */
    static Plan unassigned(Observed host) {
        Set<String> forget = new LinkedHashSet<>();
        host.work().forEach((version, w) -> {
            if (!w.running()) {
                forget.add(version);
            }
        });
        boolean running = host.work().values().stream().anyMatch(Work::running);
        Result result = running ? Result.waiting(null, 0, "unassigned; waiting for running work to end")
                : Result.removed();
        return new Plan(result, List.of(), Map.of(), forget, removable(host, Set.of()), true);
    }

    /** The plan for a valid assignment ({@link #refusal} found nothing). */
    static Plan assigned(Assignment a, Observed host) {
        AppIntent intent = a.intent();
        List<String> ready = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        List<String> preparing = new ArrayList<>();
        List<String> start = new ArrayList<>();
        Map<String, String> firstReports = new LinkedHashMap<>();
        Set<String> forget = new LinkedHashSet<>();
        long done = 0;
        long total = 0;
        boolean totalKnown = true;
        for (String version : new TreeSet<>(intent.versions().keySet())) {
            VersionSpec spec = intent.versions().get(version);
            Work w = host.work().get(version);
            if (host.complete().contains(version)) {
                ready.add(version);
                if (w != null && !w.running()) {
                    forget.add(version);
                }
                continue;
            }
            String inUse = inUseWithOtherBytes(version, spec, intent.isDocker(), host);
            if (inUse != null) {
                failed.put(version, inUse);
                continue;
            }
            if (w != null && !w.running() && w.spec().equals(spec) && (!w.reported() || host.backingOff())) {
                // reported once, then left to the kit's backoff: a reconcile before it runs out redoes nothing
                if (!w.reported()) {
                    firstReports.put(version, w.failure());
                }
                failed.put(version, w.failure());
                continue;
            }
            preparing.add(version);
            if (w != null && w.running()) {
                done += w.bytesDone();
                totalKnown &= w.bytesTotal() >= 0;
                total += Math.max(0, w.bytesTotal());
            } else {
                // nothing started yet, the backoff ran out (retry), or it prepared an older spec: start over
                start.add(version);
                totalKnown = false;
            }
        }
        Result result = result(a, ready, failed, preparing, done, totalKnown ? total : -1);
        return new Plan(result, start, firstReports, forget, removable(host, intent.versions().keySet()),
                intent.versions().isEmpty());
    }

    private static Result result(Assignment a, List<String> ready, Map<String, String> failed,
                                 List<String> preparing, long bytesDone, long bytesTotal) {
        String active = a.intent().active();
        long rev = a.appRevision();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("versions", ready);
        if (!preparing.isEmpty()) {
            details.put("preparing", preparing);
            details.put("bytesDone", bytesDone);
            details.put("bytesTotal", bytesTotal);
        }
        if (!failed.isEmpty()) {
            details.put("failed", List.copyOf(failed.keySet()));
            List<String> reasons = new ArrayList<>();
            failed.forEach((version, why) -> reasons.add(version + ": " + why));
            // the kit retries after its backoff; while other versions download, look sooner to report progress
            Result.Status status = new Result.Status(Phase.FAILED, active, rev,
                    "cannot prepare " + String.join("; ", reasons), details);
            return new Result(status, preparing.isEmpty() ? null : PROGRESS_EVERY);
        }
        if (!preparing.isEmpty()) {
            return Result.progressing(active, rev, "preparing " + preparing, details).requeueAfter(PROGRESS_EVERY);
        }
        return Result.ready(active, rev, "prepared " + ready.size() + " version" + (ready.size() == 1 ? "" : "s"),
                details);
    }

    /**
     * Why the install of {@code version} may not be replaced now, or null: it is the one {@code current} points to
     * (an app runs from it) and the intent names other bytes for it. Replacing it would change the running app's
     * files behind setlive's rollout slots and health gate, so new bytes need a new version name.
     */
    static String inUseWithOtherBytes(String version, VersionSpec spec, boolean isDocker, Observed host) {
        String had = host.currentSha256();
        if (isDocker || spec.sha256() == null || !version.equals(host.current()) || had == null
                || had.equals(spec.sha256())) {
            return null;
        }
        return "refusing to replace the install of " + version + " in use (sha256 " + had
                + ") with other bytes (sha256 " + spec.sha256() + "); publish them under a new version name";
    }

    /**
     * Installs on disk that may go: not in {@code keep}, not current, no work running for them, and named like a
     * version (never delete what we could not have made).
     */
    private static List<String> removable(Observed host, Set<String> keep) {
        List<String> remove = new ArrayList<>();
        for (String version : new TreeSet<>(host.onDisk())) {
            Work w = host.work().get(version);
            if (keep.contains(version) || version.equals(host.current()) || (w != null && w.running())
                    || !validVersionName(version)) {
                continue;
            }
            remove.add(version);
        }
        return remove;
    }

    private static boolean validVersionName(String version) {
        try {
            InstallLayout.requireVersion(version);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
