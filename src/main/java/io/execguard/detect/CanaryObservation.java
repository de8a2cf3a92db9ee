package io.execguard.detect;

/**
 * What the exec canary saw, for {@link ExecPathRules}: its target, whether a run is stuck, and how fast the recent
 * runs were. Pure data, read by the probe from its canary (detection knows nothing of Kubernetes or the CRI).
 *
 * @param containerId     the container the canary execs into (the probe's own)
 * @param shimPid         the pid of that container's shim, 0 when not known
 * @param shim            the shim's main thread as read when the run was overdue ({@code ' '} state: not read)
 * @param canaryTask      the canary's own process under the shim, when one was seen (state {@code Z}: finished)
 * @param stuckSeconds    seconds since the stuck run started, or null when no run is stuck: a run is stuck from its
 *                        deadline until a later run answers within the deadline
 * @param stuckInFlight   whether the stuck run still waits for its answer (else it answered late or was abandoned)
 * @param deadlineSeconds the canary's deadline
 * @param lastStage       the stage this finding had at its last scan, kept once the stuck run has ended
 * @param slowRuns        consecutive runs that answered within the deadline but above {@code slowSeconds}
 * @param slowRunsNeeded  runs in a row above {@code slowSeconds} that make an {@link FindingType#ExecPathSlow}
 * @param slowSeconds     the slow threshold
 * @param lastLatencySeconds the latest answered run's latency, NaN when none yet
 * @param daemon          the runtime daemon's answer to a cheap call (CRI Version) made while the run is stuck, or
 *                        null when none was made or it is still waiting
 */
public record CanaryObservation(String containerId, int shimPid, Task shim, Task canaryTask, Double stuckSeconds,
                                boolean stuckInFlight, double deadlineSeconds, ExecStage lastStage, int slowRuns,
                                int slowRunsNeeded, double slowSeconds, double lastLatencySeconds,
                                DaemonCheck daemon) {

    /** Whether the runtime's daemon answered CRI Version within {@code waitSeconds}, and how fast. */
    public record DaemonCheck(boolean answered, double seconds, double waitSeconds) {
    }

    /** A task of the exec path as read from /proc: pid, comm, state letter, wchan (null when unknown). */
    public record Task(int pid, String comm, char state, String wchan) {
        public boolean stoppedOrBlocked() {
            return state == 'T' || state == 't' || state == 'D';
        }
    }
}
