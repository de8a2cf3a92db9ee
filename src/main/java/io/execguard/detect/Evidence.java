package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;
import io.execguard.host.MountEntry;
import io.execguard.host.OpenFiles;
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

    /** nfs4_* frames (and _nfs4_*, __nfs4_*): the task is in NFSv4 code; nfs3_* / nfs2_*: in NFSv2/3 code. */
    private static final Pattern NFS4_FRAME = Pattern.compile("_*nfs4\\w*");
    private static final Pattern NFS3_FRAME = Pattern.compile("_*nfs[23]_\\w*|_*nfs3\\w*");

    /**
     * The mount a filesystem cause points at, from the task's own mount namespace, or null rather than a
     * guess. The candidates are the namespace's mounts of the cause's filesystem (for NFS narrowed by the
     * stack: {@code nfs4_*} frames mean an {@code nfs4} mount, {@code nfs3_*} frames an {@code nfs} one).
     * One candidate is named. Of several, the one the task's own evidence points at: an open file's
     * {@code mnt_id}, or the mount holding its cwd, root or an open file's path. Still several (or none
     * pointed at): for FUSE the one whose connection has requests waiting, when exactly one has (the lower
     * layers of a busy stack do not count: their waiter is the upper daemon); otherwise no mount.
     */
    public static MountRef mountFor(Cause cause, ProcessSnapshot p, ThreadSnapshot t, HostSnapshot s) {
        List<MountEntry> mounts = p.mountNamespace() == null ? List.of()
                : s.mounts().getOrDefault(p.mountNamespace(), List.of());
        List<MountEntry> candidates = switch (cause) {
            case FuseRequest -> mounts.stream().filter(MountEntry::isFuse).filter(m -> m.major() == 0).toList();
            case NfsRequest -> ofType(mounts, nfsTypes(t));
            case CephRequest -> ofType(mounts, Set.of("ceph"));
            case CifsRequest -> ofType(mounts, Set.of("cifs", "smb3"));
            default -> null;
        };
        if (candidates == null) {
            return null;
        }
        if (candidates.size() == 1) {
            return ref(candidates.get(0));
        }
        Set<MountEntry> used = usedBy(p.files(), mounts);
        List<MountEntry> pointed = candidates.stream().filter(used::contains).toList();
        if (pointed.size() == 1) {
            return ref(pointed.get(0));
        }
        if (!pointed.isEmpty()) {
            candidates = pointed;
        }
        return cause == Cause.FuseRequest ? busyFuseMount(candidates, s.fuseConnections()) : null;
    }

    private static Set<String> nfsTypes(ThreadSnapshot t) {
        boolean v4 = false;
        boolean v3 = false;
        for (String f : t == null ? List.<String>of() : CauseRules.framesOf(t)) {
            v4 |= NFS4_FRAME.matcher(f).matches();
            v3 |= NFS3_FRAME.matcher(f).matches();
        }
        return v4 == v3 ? Set.of("nfs", "nfs4") : v4 ? Set.of("nfs4") : Set.of("nfs");
    }

    private static List<MountEntry> ofType(List<MountEntry> mounts, Set<String> types) {
        return mounts.stream().filter(m -> types.contains(m.fsType())).toList();
    }

    /** The mounts the task's cwd, root and open files are on. */
    private static Set<MountEntry> usedBy(OpenFiles files, List<MountEntry> mounts) {
        Set<MountEntry> used = new java.util.HashSet<>();
        if (files == null || !files.read()) {
            return used;
        }
        for (MountEntry m : mounts) {
            if (m.id() >= 0 && files.mountIds().contains(m.id())) {
                used.add(m);
            }
        }
        List<String> paths = new ArrayList<>(files.fdPaths());
        if (files.cwd() != null) {
            paths.add(files.cwd());
        }
        if (files.root() != null) {
            paths.add(files.root());
        }
        for (String path : paths) {
            MountEntry holder = holderOf(path, mounts);
            if (holder != null) {
                used.add(holder);
            }
        }
        return used;
    }

    /** The mount a path is on: the longest mount point that contains it; of equal ones the later (on top). */
    public static MountEntry holderOf(String path, List<MountEntry> mounts) {
        MountEntry best = null;
        for (MountEntry m : mounts) {
            if (contains(m.mountPoint(), path)
                    && (best == null || m.mountPoint().length() >= best.mountPoint().length())) {
                best = m;
            }
        }
        return best;
    }

    private static boolean contains(String mountPoint, String path) {
        if (mountPoint.equals("/")) {
            return path.startsWith("/");
        }
        return path.equals(mountPoint) || path.startsWith(mountPoint + "/");
    }

    private static MountRef busyFuseMount(List<MountEntry> fuse, List<FuseConnection> conns) {
        Map<Integer, Integer> waiting = new java.util.HashMap<>();
        for (FuseConnection c : conns) {
            waiting.put(c.id(), c.waiting());
        }
        if (fuse.isEmpty()) {
            // the task's mount table is unknown or holds no FUSE mount: only a lone busy connection is evidence
            List<FuseConnection> busy = conns.stream().filter(c -> c.waiting() > 0).toList();
            return busy.size() == 1 ? new MountRef("fuse", null, null, busy.get(0).id()) : null;
        }
        List<MountEntry> busy = fuse.stream().filter(m -> waiting.getOrDefault(m.minor(), 0) > 0).toList();
        // A lower layer of a stack (its mount point is the source of another busy mount) is busy because the
        // upper daemon waits on it; the task waits on the upper one.
        List<MountEntry> top = busy.stream()
                .filter(lower -> busy.stream().noneMatch(upper -> upper != lower
                        && upper.source().startsWith("/") && contains(lower.mountPoint(), upper.source())))
                .toList();
        return top.size() == 1 ? ref(top.get(0)) : null;
    }

    private static MountRef ref(MountEntry m) {
        return new MountRef(m.fsType(), m.source(), m.mountPoint(), m.isFuse() && m.major() == 0 ? m.minor() : null);
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

    /**
     * How long the thread has been off-CPU, as the evidence allows: "6d02h" from {@code se.exec_start}, or,
     * where the kernel hides that, "up to 6d02h (its age)".
     */
    static String offCpu(ProcessSnapshot p, ThreadSnapshot t) {
        return Double.isNaN(t.blockedForSeconds()) ? "up to " + duration(p.ageSeconds()) + " (its age)"
                : duration(t.blockedForSeconds());
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
