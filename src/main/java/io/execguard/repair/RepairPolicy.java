package io.execguard.repair;

import java.time.Duration;

/**
 * What the probe may repair on its node: the selecting ExecHealthPolicy's {@code remediation}
 * ({@code io.execguard.probe.ProbePolicy} builds it).
 *
 * @param abortStuckFuse          abort FUSE connections that hold unkillable tasks or stuck runc inits
 * @param killLeakedExecSessions  end leaked exec sessions idle for at least {@code leakedExecSessionTtl}
 * @param leakedExecSessionTtl    idle time after which a leaked session is ended
 * @param dryRun                  plan and report, change nothing
 * @param hangUpGrace             time between SIGHUP and SIGKILL for a session that ignored the hangup
 */
public record RepairPolicy(boolean abortStuckFuse, boolean killLeakedExecSessions, Duration leakedExecSessionTtl,
                           boolean dryRun, Duration hangUpGrace) {

    /** How long a session has after SIGHUP before SIGKILL. */
    public static final Duration HANG_UP_GRACE = Duration.ofSeconds(10);

    public boolean anyEnabled() {
        return abortStuckFuse || killLeakedExecSessions;
    }
}
