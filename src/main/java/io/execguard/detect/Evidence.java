package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;
import io.execguard.host.MountEntry;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.ThreadSnapshot;

/** Builds findings from a task's evidence; shared by the task detectors. Pure. */
public final class Evidence {

    private static final String[] SIGNAL_NAMES = {"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
        "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
        "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"};

    private Evidence() {
    }

    /** Names of the signals set in a pending mask (bit n-1 is signal n); real-time signals as SIGRTMIN+k. */
    public static List<String> signalNames(long mask) {
        List<String> out = new ArrayList<>();
        for (int sig = 1; sig <= 64; sig++) {
            if ((mask & (1L << (sig - 1))) != 0) {
                out.add(sig <= SIGNAL_NAMES.length ? SIGNAL_NAMES[sig - 1]
                        : sig < 34 ? "SIG" + sig : "SIGRTMIN+" + (sig - 34));
            }
        }
        return out;
    }

    /**
     * Container when the cgroup names a container or pod; Node only when the cgroup was read and names
     * neither; Unknown when it was not read (a read that timed out is no evidence of a host task).
     */
    public static Scope scopeOf(ProcessSnapshot p) {
        if (p.containerId() != null || (p.cgroup() != null && p.cgroup().podUid() != null)) {
            return Scope.Container;
        }
        return p.cgroupKnown() ? Scope.Node : Scope.Unknown;
    }

    /** " of container 0123456789ab", " on the host", or " (its cgroup could not be read)": what the cgroup shows. */
    static String where(ProcessSnapshot p) {
        if (p.containerId() != null) {
            return " of " + shortId(p.containerId());
        }
        return switch (scopeOf(p)) {
            case Container -> " of pod " + p.cgroup().podUid();
            case Node -> " on the host";
            case Unknown -> " (its cgroup could not be read)";
        };
    }

    /** A finding about one task, with every piece of evidence the snapshot holds for it. */
    public static Finding task(FindingType type, Cause cause, Severity severity, String message, ProcessSnapshot p,
                               ThreadSnapshot t, String containerIdFallback, MountRef mount) {
        String containerId = p.containerId() != null ? p.containerId() : containerIdFallback;
        return new Finding(type, cause, severity,
                containerId != null ? Scope.Container : scopeOf(p), message, p.pid(),
                t.tid() == p.pid() ? null : t.tid(), t.comm(), String.valueOf(t.state()), t.wchan(),
                t.kernelStack(), signalNames(t.pendingMask() | t.sharedPendingMask()), Math.round(p.ageSeconds()),
                containerId, p.cgroup() == null ? null : p.cgroup().podUid(),
                p.cgroup() == null ? null : p.cgroup().path(), mount);
    }

    /** Seconds the thread has been off-CPU; falls back to the process's age where the kernel hides it. */
    public static double blockedFor(ProcessSnapshot p, ThreadSnapshot t) {
        return Double.isNaN(t.blockedForSeconds()) ? p.ageSeconds() : t.blockedForSeconds();
    }

    /**
     * The mount a filesystem cause points at, from the task's own mount namespace: for FUSE the mount
     * whose connection has requests waiting; for NFS, ceph and CIFS the mount of that type.
     */
    public static MountRef mountFor(Cause cause, ProcessSnapshot p, HostSnapshot s) {
        List<MountEntry> mounts = p.mountNamespace() == null ? List.of()
                : s.mounts().getOrDefault(p.mountNamespace(), List.of());
        return switch (cause) {
            case FuseRequest -> fuseMount(mounts, s.fuseConnections());
            case NfsRequest -> firstOfType(mounts, "nfs", "nfs4");
            case CephRequest -> firstOfType(mounts, "ceph");
            case CifsRequest -> firstOfType(mounts, "cifs", "smb3");
            default -> null;
        };
    }

    private static MountRef fuseMount(List<MountEntry> mounts, List<FuseConnection> conns) {
        Map<Integer, Integer> waiting = new java.util.HashMap<>();
        for (FuseConnection c : conns) {
            waiting.put(c.id(), c.waiting());
        }
        List<MountEntry> fuse = mounts.stream().filter(MountEntry::isFuse).filter(m -> m.major() == 0).toList();
        // Most requests waiting wins; on a tie the mount made last, i.e. the upper one of a stack
        // (the lower daemon's waiter is the upper daemon, the task waits on the upper connection).
        MountEntry best = null;
        for (MountEntry m : fuse) {
            int w = waiting.getOrDefault(m.minor(), 0);
            if (w > 0 && (best == null || w >= waiting.getOrDefault(best.minor(), 0))) {
                best = m;
            }
        }
        if (best == null && fuse.size() == 1) {
            best = fuse.get(0);
        }
        if (best != null) {
            return new MountRef(best.fsType(), best.source(), best.mountPoint(), best.minor());
        }
        List<FuseConnection> busy = conns.stream().filter(c -> c.waiting() > 0).toList();
        return busy.size() == 1 ? new MountRef("fuse", null, null, busy.get(0).id()) : null;
    }

    private static MountRef firstOfType(List<MountEntry> mounts, String... types) {
        for (MountEntry m : mounts) {
            for (String t : types) {
                if (m.fsType().equals(t)) {
                    return new MountRef(m.fsType(), m.source(), m.mountPoint(), null);
                }
            }
        }
        return null;
    }

    /** "… on fuse.bindfs bindfs at /data (FUSE connection 45)", or "" without a mount. */
    static String onMount(MountRef m) {
        if (m == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(" on ").append(m.fsType());
        if (m.source() != null) {
            b.append(' ').append(m.source());
        }
        if (m.mountPoint() != null) {
            b.append(" at ").append(m.mountPoint());
        }
        if (m.fuseConnection() != null) {
            b.append(" (FUSE connection ").append(m.fuseConnection()).append(')');
        }
        return b.toString();
    }

    /** 45s, 12m30s, 3h05m, 2d04h. */
    public static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format("%02ds", s % 60);
        }
        if (s < 86400) {
            return (s / 3600) + "h" + String.format("%02dm", (s % 3600) / 60);
        }
        return (s / 86400) + "d" + String.format("%02dh", (s % 86400) / 3600);
    }

    public static String shortId(String containerId) {
        return containerId == null ? "an unidentified container" : "container " + containerId.substring(0, 12);
    }
}
