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
 * Not thread-safe: owned by the scan loop.
 */
public final class FindingTracker {

    private record State(Instant blockedSince, long contextSwitches, Instant firstReported) {
    }

    private final Map<String, State> states = new HashMap<>();

    /** The thresholds the detectors should run with: the blocked-task ones zeroed (applied here instead). */
    public static Thresholds detectorThresholds(Thresholds t) {
        return t.with("HungTask", 0).with("UnkillableTask", 0).with("PidNamespaceTeardownStuck", 0);
    }

    public List<TrackedFinding> update(List<Finding> raw, HostSnapshot snapshot, Instant now, Thresholds thresholds) {
        Map<Integer, ProcessSnapshot> byPid = new HashMap<>();
        for (ProcessSnapshot p : snapshot.processes()) {
            byPid.put(p.pid(), p);
        }
        Set<String> seen = new HashSet<>();
        List<TrackedFinding> out = new ArrayList<>();
        for (Finding f : raw) {
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

    /** type/container/pid@starttime, or type/cgroup for cgroup findings, or type for node findings. */
    static String idOf(Finding f, ProcessSnapshot p) {
        StringBuilder b = new StringBuilder(f.type().name());
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
