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
 * @param containerInits  every container's own process (its init, as the runtime's state records it: runc's
 *                        {@code init_process_pid}), pid to start time in clock ticks (0 when not recorded)
 */
public record HostSnapshot(HostInfo host, List<ProcessSnapshot> processes, List<PidsCgroup> pidsCgroups,
                           Map<String, List<MountEntry>> mounts, List<FuseConnection> fuseConnections,
                           int tasksScanned, List<String> warnings, Map<DeadlineReader.Kind, Integer> blockedReads,
                           Map<Integer, Long> containerInits) {

    public HostSnapshot {
        blockedReads = Map.copyOf(blockedReads);
        containerInits = Map.copyOf(containerInits);
    }

    /** Without the runtime's record of container inits. */
    public HostSnapshot(HostInfo host, List<ProcessSnapshot> processes, List<PidsCgroup> pidsCgroups,
                        Map<String, List<MountEntry>> mounts, List<FuseConnection> fuseConnections,
                        int tasksScanned, List<String> warnings, Map<DeadlineReader.Kind, Integer> blockedReads) {
        this(host, processes, pidsCgroups, mounts, fuseConnections, tasksScanned, warnings, blockedReads, Map.of());
    }

    /** Whether the runtime records this process (pid and start time) as a container's own process. */
    public boolean isContainerInit(ProcessSnapshot p) {
        Long start = containerInits.get(p.pid());
        return start != null && (start == 0 || start == p.startTimeTicks());
    }

    /** A snapshot without blocked-read counts (built by hand, not read from a host). */
    public HostSnapshot(HostInfo host, List<ProcessSnapshot> processes, List<PidsCgroup> pidsCgroups,
                        Map<String, List<MountEntry>> mounts, List<FuseConnection> fuseConnections,
                        int tasksScanned, List<String> warnings) {
        this(host, processes, pidsCgroups, mounts, fuseConnections, tasksScanned, warnings, Map.of());
    }
}
