package io.execguard.host;

import java.util.List;
import java.util.Map;

/**
 * Everything one scan read from a host: the input of every detector.
 *
 * @param host            host facts and sysctls
 * @param processes       processes read deeply (suspects, runtime processes, exec-session candidates)
 * @param pidsCgroups     pids cgroups that have a limit
 * @param mounts          mount tables by mount namespace id (only namespaces of suspects)
 * @param fuseConnections FUSE connections with their waiting counts
 * @param tasksScanned    threads whose stat was read in the cheap pass
 * @param warnings        unreadable or garbled input that was skipped, one sentence each
 * @param blockedReads    deadline reads still blocked in the kernel when the scan ended, by kind (each
 *                        holds a thread of the reader until the task lets it go)
 */
public record HostSnapshot(HostInfo host, List<ProcessSnapshot> processes, List<PidsCgroup> pidsCgroups,
                           Map<String, List<MountEntry>> mounts, List<FuseConnection> fuseConnections,
                           int tasksScanned, List<String> warnings, Map<DeadlineReader.Kind, Integer> blockedReads) {

    public HostSnapshot {
        blockedReads = Map.copyOf(blockedReads);
    }

    /** A snapshot without blocked-read counts (built by hand, not read from a host). */
    public HostSnapshot(HostInfo host, List<ProcessSnapshot> processes, List<PidsCgroup> pidsCgroups,
                        Map<String, List<MountEntry>> mounts, List<FuseConnection> fuseConnections,
                        int tasksScanned, List<String> warnings) {
        this(host, processes, pidsCgroups, mounts, fuseConnections, tasksScanned, warnings, Map.of());
    }
}
