package io.execguard.probe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.execguard.detect.Cause;
import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Severity;
import io.execguard.host.HostInfo;
import io.execguard.repair.Repair;

/**
 * What the probe publishes for its node after one scan, before it becomes a {@code NodeExecHealth}
 * status. Pure value; {@link #fingerprint()} is what "the status changed" means.
 *
 * @param phase     Healthy, Degraded or Unhealthy
 * @param findings  at most the configured cap, most severe first
 * @param truncated whether findings were dropped by the cap
 * @param summary   counts over all findings, including truncated ones
 * @param repairs   the probe's most recent node-local repairs, newest first
 * @param scanCount which scan of this probe process produced it (1, 2, ...; 0 when unknown)
 */
public record ProbeReport(String phase, List<Item> findings, boolean truncated, Summary summary, HostInfo host,
                          long scanDurationMillis, int tasksScanned, List<Repair> repairs, long scanCount) {

    /** A finding attributed to its pod, if any. */
    public record Item(TrackedFinding tracked, PodRef pod) {
    }

    public record Summary(int stuckExec, int stuckKill, Map<String, Integer> byType, String topCause) {
    }

    public static ProbeReport build(List<TrackedFinding> tracked, PodIndex pods, HostInfo host,
                                    Set<FindingType> unhealthyTypes, int maxFindings, long scanDurationMillis,
                                    int tasksScanned) {
        return build(tracked, pods, host, unhealthyTypes, null, maxFindings, scanDurationMillis, tasksScanned);
    }

    /**
     * @param degradedTypes the types that make the node Degraded; null: every type not in {@code unhealthyTypes}.
     *                      A finding of a type in neither set is reported but leaves the phase Healthy.
     */
    public static ProbeReport build(List<TrackedFinding> tracked, PodIndex pods, HostInfo host,
                                    Set<FindingType> unhealthyTypes, Set<FindingType> degradedTypes, int maxFindings,
                                    long scanDurationMillis, int tasksScanned) {
        List<TrackedFinding> sorted = new ArrayList<>(tracked);
        sorted.sort(Comparator.comparing(TrackedFinding::finding, DetectorSuite.ORDER).thenComparing(TrackedFinding::id));
        int exec = 0;
        int kill = 0;
        Map<String, Integer> byType = new TreeMap<>();
        boolean unhealthy = false;
        boolean degraded = false;
        for (TrackedFinding t : sorted) {
            FindingType type = t.finding().type();
            exec += type.breaksExec() ? 1 : 0;
            kill += type.breaksKill() ? 1 : 0;
            byType.merge(type.name(), 1, Integer::sum);
            unhealthy |= unhealthyTypes.contains(type);
            degraded |= degradedTypes == null || degradedTypes.contains(type);
        }
        List<Item> items = new ArrayList<>();
        for (TrackedFinding t : sorted.subList(0, Math.min(maxFindings, sorted.size()))) {
            items.add(new Item(t, pods.attribute(t.finding())));
        }
        String phase = unhealthy ? "Unhealthy" : degraded ? "Degraded" : "Healthy";
        String top = sorted.isEmpty() ? null : topCause(sorted.get(0).finding());
        return new ProbeReport(phase, List.copyOf(items), sorted.size() > maxFindings,
                new Summary(exec, kill, java.util.Collections.unmodifiableMap(byType), top), host, scanDurationMillis, tasksScanned,
                List.of(), 0);
    }

    /** This report as the {@code scanCount}th scan's, with the repair history attached. */
    public ProbeReport of(long scanCount, List<Repair> history) {
        return new ProbeReport(phase, findings, truncated, summary, host, scanDurationMillis, tasksScanned,
                List.copyOf(history), scanCount);
    }

    private static String topCause(Finding f) {
        return f.cause() == Cause.Unknown ? f.type().name() : f.cause().name();
    }

    /** Ids of the Critical findings, for appear/clear Events. */
    public Set<String> criticalIds() {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        for (Item i : findings) {
            if (i.tracked().finding().severity() == Severity.Critical) {
                ids.add(i.tracked().id());
            }
        }
        return ids;
    }

    /**
     * The content that decides whether the status must be written: everything except values that
     * move every scan on their own (ages, durations, the wording of messages that quote them).
     */
    public String fingerprint() {
        StringBuilder b = new StringBuilder(phase).append('|').append(truncated).append('|').append(summary);
        for (Item i : findings) {
            Finding f = i.tracked().finding();
            b.append('|').append(i.tracked().id()).append(',').append(f.cause()).append(',').append(f.severity())
                    .append(',').append(f.state()).append(',').append(f.wchan()).append(',').append(f.signalsPending())
                    .append(',').append(f.mount()).append(',').append(i.pod()).append(',').append(i.tracked().firstSeen());
        }
        for (Repair r : repairs) {
            b.append("|repair ").append(r.seq());
        }
        if (host != null) {
            b.append('|').append(host.kernel()).append(',').append(host.runtimes()).append(',').append(host.ptyNr())
                    .append(',').append(host.ptyMax()).append(',').append(host.ptyReserve()).append(',')
                    .append(host.pipeUserPagesSoft()).append(',')
                    .append(host.pipeUserPagesHard()).append(',').append(host.pipeMaxSize());
        }
        return b.toString();
    }
}
