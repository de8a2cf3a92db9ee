package io.execguard.repair;

import java.util.List;

/**
 * One repair the planner decided on.
 *
 * @param kind           what to do
 * @param key            identity for "already done": {@code fuse/N}, {@code hup/PID@START}, {@code kill/PID@START}
 * @param fuseConnection the connection to abort (AbortFuseConnection), else null
 * @param pid            the process to signal (sessions), else null
 * @param startTimeTicks the process's start time; the signal is sent only if it still matches
 * @param containerId    the container concerned, if one
 * @param findingIds     the findings that justify it
 * @param reason         one sentence: why, with the evidence
 */
public record RepairAction(RepairKind kind, String key, Integer fuseConnection, Integer pid, Long startTimeTicks,
                           String containerId, List<String> findingIds, String reason) {

    /** What is acted on, for humans: {@code fuse connection 52} or {@code pid 1234}. */
    public String target() {
        return fuseConnection != null ? "fuse connection " + fuseConnection : "pid " + pid;
    }
}
