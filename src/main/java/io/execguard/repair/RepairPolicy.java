package io.execguard.repair;

import java.time.Duration;
import java.util.Set;

/**
 * What the probe may repair on its node: the selecting ExecHealthPolicy's {@code remediation}
 * ({@code io.execguard.probe.ProbePolicy} builds it).
 *
 * @param abortStuckFuse          abort FUSE connections that hold unkillable tasks or stuck runc inits
 * @param killLeakedExecSessions  end leaked exec sessions idle for at least {@code leakedExecSessionTtl}
 * @param leakedExecSessionTtl    idle time after which a leaked session is ended
 * @param dryRun                  plan and report, change nothing
 * @param hangUpGrace             time between SIGHUP and SIGKILL for a session that ignored the hangup
 * @param fuseTypesAllowed        FUSE filesystem types whose connections may be aborted; empty: every type not
 *                                denied. An entry matches the mount's fstype exactly ({@code fuse.sshfs}) or
 *                                its subtype ({@code sshfs} matches {@code fuse.sshfs})
 * @param fuseTypesDenied         FUSE filesystem types never aborted (wins over allowed)
 */
public record RepairPolicy(boolean abortStuckFuse, boolean killLeakedExecSessions, Duration leakedExecSessionTtl,
                           boolean dryRun, Duration hangUpGrace, Set<String> fuseTypesAllowed,
                           Set<String> fuseTypesDenied) {

    /** How long a session has after SIGHUP before SIGKILL. */
    public static final Duration HANG_UP_GRACE = Duration.ofSeconds(10);
    /** lxcfs serves /proc files of every container on the node: aborting it breaks them all. */
    public static final Set<String> DEFAULT_FUSE_TYPES_DENIED = Set.of("fuse.lxcfs");

    public RepairPolicy {
        fuseTypesAllowed = Set.copyOf(fuseTypesAllowed);
        fuseTypesDenied = Set.copyOf(fuseTypesDenied);
    }

    /** With the default FUSE type lists (all allowed but lxcfs). */
    public RepairPolicy(boolean abortStuckFuse, boolean killLeakedExecSessions, Duration leakedExecSessionTtl,
                        boolean dryRun, Duration hangUpGrace) {
        this(abortStuckFuse, killLeakedExecSessions, leakedExecSessionTtl, dryRun, hangUpGrace, Set.of(),
                DEFAULT_FUSE_TYPES_DENIED);
    }

    public boolean anyEnabled() {
        return abortStuckFuse || killLeakedExecSessions;
    }

    /** Whether a connection of this filesystem type may be aborted; null when it may, else why not. */
    public String fuseTypeRefusal(String fsType) {
        if (matches(fuseTypesDenied, fsType)) {
            return "its filesystem type " + fsType + " is in remediation.fuseTypesDenied";
        }
        if (!fuseTypesAllowed.isEmpty() && !matches(fuseTypesAllowed, fsType)) {
            return "its filesystem type " + fsType + " is not in remediation.fuseTypesAllowed";
        }
        return null;
    }

    private static boolean matches(Set<String> types, String fsType) {
        if (fsType == null) {
            return false;
        }
        String subtype = fsType.startsWith("fuse.") ? fsType.substring(5) : null;
        return types.contains(fsType) || (subtype != null && types.contains(subtype));
    }
}
