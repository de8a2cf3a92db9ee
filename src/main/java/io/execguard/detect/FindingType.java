package io.execguard.detect;

/** What is stuck. The names are the stable JSON strings of the report and the NodeExecHealth API. */
public enum FindingType {
    /** A runc init that never finished: the exec never starts. */
    StuckRuntimeInit,
    /** A task with SIGKILL pending that is still there: kill never completes. */
    UnkillableTask,
    /** A container's init blocked in zap_pid_ns_processes: kill and pod deletion hang, setns fails. */
    PidNamespaceTeardownStuck,
    /** A user task in D state for longer than the threshold, not covered by another type. */
    HungTask,
    /** A pids cgroup at its limit, or forks refused: exec fails with "read init-p: connection reset by peer". */
    PidsLimitReached,
    /** An exec'd shell with a terminal, left behind by a vanished client. */
    LeakedExecSession,
    /** kernel.pty.nr close to what containers may use (max - reserve): exec -it into containers fails there. */
    PtyExhaustionRisk,
    /** Pipes may get a single page: runtime helpers can deadlock writing to them. */
    PipeBufferExhaustionRisk,
    /** A pod on this node whose deletion is overdue (reported by the probe from the API, not by scan). */
    PodStuckTerminating,
    /** The exec canary got no answer within its deadline: an exec through the runtime's API does not finish. */
    ExecPathStuck,
    /** The exec canary answered, but slower than the threshold for several runs in a row. */
    ExecPathSlow,
    /** The runtime's API does not answer a call for one container (its shim) while it answers for the others. */
    RuntimeUnresponsive;

    /** Whether this type means exec is (or will be) broken, kill is, or both. */
    public boolean breaksExec() {
        return switch (this) {
            case StuckRuntimeInit, PidsLimitReached, PidNamespaceTeardownStuck, LeakedExecSession, PtyExhaustionRisk,
                 PipeBufferExhaustionRisk, ExecPathStuck, RuntimeUnresponsive -> true;
            default -> false;
        };
    }

    public boolean breaksKill() {
        return switch (this) {
            case UnkillableTask, PidNamespaceTeardownStuck, HungTask, PodStuckTerminating -> true;
            default -> false;
        };
    }
}
