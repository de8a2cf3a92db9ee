package io.execguard.probe;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Thresholds;
import io.execguard.host.HostSnapshot;
import io.execguard.host.PidsCgroup;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.ThreadSnapshot;

/**
 * Follows findings across scans. Each gets a stable id (type + container + pid + process start time),
 * keeps the time it was first reported, and disappears when a scan no longer finds it.
 *
 * <p>For the blocked-task types ({@link FindingType#HungTask}, {@link FindingType#UnkillableTask},
 * {@link FindingType#PidNamespaceTeardownStuck}) the detectors run with a zero time threshold and the
 * tracker applies the real one: a task counts as blocked since it last ran ({@code se.exec_start} at
 * first sight) and that clock restarts whenever its context-switch counters move between scans.
 *
 * <p>{@code pids.events max} only ever grows, so a container that once hit its pids limit would be
 * reported for as long as it lives. A {@link FindingType#PidsLimitReached} that rests only on refused forks
 * (the cgroup is not near its limit now) is reported while that counter keeps rising and for
 * {@link #REFUSALS_QUIET} after it last rose (from the probe's first sight of it), then dropped; a new
 * refusal brings it back. Not thread-safe: owned by the scan loop.
 */
public final class FindingTracker {

    private record State(Instant blockedSince, long contextSwitches, Instant firstReported) {
    }

    /** How long a pids cgroup's refused-fork counter must stand still before its finding is dropped. */
    public static final Duration REFUSALS_QUIET = Duration.ofMinutes(10);

    private record Refusals(long count, Instant lastRise) {
    }

    private final Map<String, State> states = new HashMap<>();
    private final Map<String, Refusals> refusals = new HashMap<>();

    /** The thresholds the detectors should run with: the blocked-task ones zeroed (applied here instead). */
    public static Thresholds detectorThresholds(Thresholds t) {
        return t.with("HungTask", 0).with("UnkillableTask", 0).with("PidNamespaceTeardownStuck", 0);
    }

    public List<TrackedFinding> update(List<Finding> raw, HostSnapshot snapshot, Instant now, Thresholds thresholds) {
        Map<Integer, ProcessSnapshot> byPid = new HashMap<>();
        for (ProcessSnapshot p : snapshot.processes()) {
            byPid.put(p.pid(), p);
        }
        Set<String> quietRefusals = updateRefusals(snapshot, now, thresholds);
        Set<String> seen = new HashSet<>();
        List<TrackedFinding> out = new ArrayList<>();
        for (Finding f : raw) {
            if (f.type() == FindingType.PidsLimitReached && quietRefusals.contains(f.cgroup())) {
                continue;
            }
            ProcessSnapshot p = f.pid() == null ? null : byPid.get(f.pid());
            String id = idOf(f, p);
            if (!seen.add(id)) {
                continue;
            }
            ThreadSnapshot t = p == null ? null : thread(p, f.tid() == null ? f.pid() : f.tid());
            long ctx = t == null ? -1 : t.contextSwitches();
            State prev = states.get(id);
            Instant blockedSince;
            if (prev == null) {
                double blocked = t == null ? 0 : Double.isNaN(t.blockedForSeconds()) ? 0 : t.blockedForSeconds();
                blockedSince = now.minusMillis(Math.round(blocked * 1000));
            } else if (ctx >= 0 && prev.contextSwitches() >= 0 && ctx != prev.contextSwitches()) {
                blockedSince = now;
            } else {
                blockedSince = prev.blockedSince();
            }
            boolean due = Duration.between(blockedSince, now).toSeconds() >= timeThreshold(f.type(), thresholds);
            Instant firstReported = prev != null && prev.firstReported() != null ? prev.firstReported()
                    : due ? now : null;
            states.put(id, new State(blockedSince, ctx, firstReported));
            if (due) {
                out.add(new TrackedFinding(id, f, firstReported));
            }
        }
        states.keySet().retainAll(seen);
        return out;
    }

    /** Follows every pids cgroup's refused-fork counter; returns the cgroups whose only evidence is old refusals. */
    private Set<String> updateRefusals(HostSnapshot snapshot, Instant now, Thresholds thresholds) {
        Set<String> quiet = new HashSet<>();
        Set<String> present = new HashSet<>();
        for (PidsCgroup c : snapshot.pidsCgroups()) {
            present.add(c.path());
            Refusals prev = refusals.get(c.path());
            Refusals cur = prev == null || c.eventsMax() > prev.count() ? new Refusals(c.eventsMax(), now)
                    : new Refusals(c.eventsMax(), prev.lastRise());
            refusals.put(c.path(), cur);
            boolean near = c.max() > 0 && c.current() >= Math.ceil(thresholds.pidsRatio() * c.max());
            if (!near && !now.isBefore(cur.lastRise().plus(REFUSALS_QUIET))) {
                quiet.add(c.path());
            }
        }
        refusals.keySet().retainAll(present);
        return quiet;
    }

    private static long timeThreshold(FindingType type, Thresholds thresholds) {
        return switch (type) {
            case HungTask -> thresholds.hungTask();
            case UnkillableTask -> thresholds.unkillableTask();
            case PidNamespaceTeardownStuck -> thresholds.pidNamespaceTeardown();
            default -> 0;
        };
    }

    private static ThreadSnapshot thread(ProcessSnapshot p, int tid) {
        for (ThreadSnapshot t : p.threads()) {
            if (t.tid() == tid) {
                return t;
            }
        }
        return null;
    }

    /** type/container/pid@starttime, or type/cgroup for cgroup findings, or type for node findings; the canary's: type/container. */
    static String idOf(Finding f, ProcessSnapshot p) {
        StringBuilder b = new StringBuilder(f.type().name());
        if (f.type() == FindingType.ExecPathStuck || f.type() == FindingType.ExecPathSlow
                || f.type() == FindingType.RuntimeUnresponsive) {
            // one per canary target (per container for the runtime sweep): the task it waits in may change, or be
            // missing from a scan, while the same call stays unanswered
            return f.containerId() == null ? b.toString() : b.append('/').append(f.containerId(), 0, 12).toString();
        }
        if (f.containerId() != null) {
            b.append('/').append(f.containerId(), 0, 12);
        } else if (f.podUid() != null) {
            b.append('/').append(f.podUid());
        }
        if (f.pid() != null) {
            b.append('/').append(f.pid());
            if (p != null) {
                b.append('@').append(p.startTimeTicks());
            }
        } else if (f.cgroup() != null && f.containerId() == null) {
            b.append('/').append(f.cgroup());
        }
        return b.toString();
    }
}
