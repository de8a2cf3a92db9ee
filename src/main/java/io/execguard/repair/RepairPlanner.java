package io.execguard.repair;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import io.execguard.detect.Cause;
import io.execguard.detect.Evidence;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.LeakedExecSessionDetector;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;
import io.execguard.host.MountEntry;
import io.execguard.host.OpenFiles;
import io.execguard.host.ProcessSnapshot;

/**
 * Decides the node-local repairs for one scan. Pure: the current findings (already past their
 * thresholds), the snapshot they came from, the policy, what was done before and the time in;
 * actions out, and for each FUSE finding that could have led to an abort and did not, why not.
 *
 * <p>Rules, from the kernel's behaviour:
 * <ul>
 *   <li><b>Abort a FUSE connection</b> only when it is positively the one a reported StuckRuntimeInit,
 *   UnkillableTask or PidNamespaceTeardownStuck task (cause FuseRequest) waits on. The kernel stack says "a
 *   FUSE request", not on which connection, so the connection is taken from the task's own evidence: the
 *   stack must show the request made for an open file (a read, write, fsync, ioctl, getdents, fstat ... on
 *   a file descriptor), and the task's open files name the connection: each file's {@code mnt_id}
 *   (fdinfo) is a mount, found in the task's mountinfo or in any other table read (mount ids are unique on
 *   the host, so a file opened in another namespace is found in that one's), and a FUSE mount's device
 *   {@code 0:N} is connection N. Of the connections the files name exactly one may have requests waiting,
 *   in this scan and the previous one. Not proven, so no abort: a request made while a path is walked or a
 *   file is opened, closed or faulted in (the file is not among the open files, or not yet); a stack that
 *   could not be read; an open file whose mount is in no table read (a lazily unmounted mount), or more
 *   files than were looked at; two busy connections named. Busy FUSE mounts merely in the task's view are
 *   never evidence. The policy may allow or deny filesystem types ({@code fuse.lxcfs} is denied by
 *   default: it serves /proc of every container on the node). One already aborted is not aborted again.</li>
 *   <li><b>End a leaked exec session</b> when a reported LeakedExecSession's terminal has been idle for at
 *   least the TTL, and its process is known not to be a container's own: its namespace pid read and not 1,
 *   and not the init the runtime's state.json records (a tty container in a pod that shares its process
 *   namespace has nsPid &gt; 1). SIGHUP first (the hangup the vanished client never delivered; a shell passes it on to
 *   its jobs), SIGKILL if the same process (PID and start time) is still there after the grace period.</li>
 * </ul>
 */
public final class RepairPlanner {

    private static final Set<FindingType> FUSE_STUCK = Set.of(FindingType.StuckRuntimeInit, FindingType.UnkillableTask,
            FindingType.PidNamespaceTeardownStuck);

    /**
     * Frames of a system call on a file descriptor (the request is for an open file). Names across kernels
     * 4.x to 6.x: {@code __vfs_read} before 4.14, {@code ksys_*} since 4.17.
     */
    static final Pattern FD_CALL = Pattern.compile("ksys_(read|write|pread64|pwrite64|readahead|lseek|fallocate"
            + "|ftruncate|fadvise64_64|sync_file_range)|__?vfs_(read|write)|vfs_(readv|writev|iter_read|iter_write"
            + "|fsync|fsync_range|fstat|fallocate|llseek|ioctl|copy_file_range|fadvise)|do_(readv|writev|preadv"
            + "|pwritev|fsync|sys_ftruncate|vfs_ioctl|sendfile|splice|splice_direct|splice_to|splice_from"
            + "|iter_readv_writev)|iterate_dir|vfs_statx_fd|__do_sys_newfstat|__do_sys_fstat|__do_sys_fsync"
            + "|__do_sys_fdatasync|__do_sys_ioctl|__x64_sys_(read|write|pread64|pwrite64|readv|writev|fsync"
            + "|fdatasync|ioctl|getdents64|getdents|newfstat|ftruncate|fallocate)|__arm64_sys_(read|write|pread64"
            + "|pwrite64|readv|writev|fsync|fdatasync|ioctl|getdents64|newfstat|ftruncate|fallocate)"
            + "|fuse_file_read_iter|fuse_file_write_iter|fuse_readdir|fuse_fsync|fuse_dir_fsync|fuse_file_ioctl"
            + "|fuse_file_fallocate|fuse_file_llseek");
    /**
     * Frames of a path walk (a lookup, an open or stat by name, a chdir): the request is for a name being resolved
     * from the task's root, its cwd or a directory it holds open — so through mounts in its own view or under an
     * open file.
     */
    static final Pattern PATH_WALK = Pattern.compile("link_path_walk|path_(lookupat|openat|parentat|mountpoint)"
            + "|filename_(lookup|parentat|create)|user_path_at\\w*|kern_path\\w*|vfs_path_lookup|do_filp_open"
            + "|do_file_open_root|walk_component|lookup_(fast|slow|open)|__lookup_slow|open_last_lookups|do_last"
            + "|vfs_statx|vfs_fstatat|do_sys_truncate|path_(set|get|list|remove)xattr|fuse_lookup\\w*"
            + "|fuse_dentry_revalidate|fuse_atomic_open|fuse_create_open|fuse_permission|fuse_get_link|fuse_open"
            + "|fuse_dir_open");
    /** Frames whose request is for no file the task can show: closing, exiting, a page fault, an exec. */
    static final Pattern NO_FILE_SHOWN = Pattern.compile("fuse_flush|fuse_release|fuse_sync_release|filp_close"
            + "|close_files|exit_files|do_exit|__fput|filemap_fault|handle_mm_fault|do_user_addr_fault"
            + "|exc_page_fault|do_page_fault|do_mem_abort|bprm_execve|do_execveat_common|do_open_execat");

    private RepairPlanner() {
    }

    /** At most this many stuck tasks are named in an abort's reason, and finding ids listed. */
    static final int MAX_LISTED = 10;

    /**
     * What the planner decided for one scan.
     *
     * @param actions  the repairs to make
     * @param declined finding id to why a FUSE or session finding did not lead to a repair (for the log)
     */
    public record Plan(List<RepairAction> actions, Map<String, String> declined) {
        public Plan {
            actions = List.copyOf(actions);
            declined = Map.copyOf(declined);
        }
    }

    /**
     * @param findings        current findings by id
     * @param previousWaiting each FUSE connection's {@code waiting} count in the previous scan
     * @param done            keys of earlier actions ({@link RepairAction#key()}) with when they were carried out
     */
    public static List<RepairAction> plan(Map<String, Finding> findings, HostSnapshot snapshot,
                                          Map<Integer, Integer> previousWaiting, RepairPolicy policy,
                                          Map<String, Instant> done, Instant now) {
        return decide(findings, snapshot, previousWaiting, policy, done, now).actions();
    }

    /** {@link #plan}, with the reasons FUSE findings were not acted on. */
    public static Plan decide(Map<String, Finding> findings, HostSnapshot snapshot,
                              Map<Integer, Integer> previousWaiting, RepairPolicy policy,
                              Map<String, Instant> done, Instant now) {
        Map<Integer, ProcessSnapshot> byPid = new HashMap<>();
        snapshot.processes().forEach(p -> byPid.put(p.pid(), p));
        List<RepairAction> out = new ArrayList<>();
        Map<String, String> declined = new TreeMap<>();
        if (policy.abortStuckFuse()) {
            out.addAll(fuseAborts(findings, snapshot, byPid, previousWaiting, policy, done, declined));
        }
        if (policy.killLeakedExecSessions()) {
            out.addAll(sessionEnds(findings, snapshot, byPid, policy, done, now, declined));
        }
        return new Plan(out, declined);
    }

    /** The connection a task's evidence names, with the mount it was found as. */
    private record Named(int connection, MountEntry mount) {
    }

    /** Either the connection the task is proven to wait on, or why it is not proven. */
    record Proof(Named named, String notProven) {
        static Proof of(Named n) {
            return new Proof(n, null);
        }

        static Proof not(String why) {
            return new Proof(null, why);
        }
    }

    private static List<RepairAction> fuseAborts(Map<String, Finding> findings, HostSnapshot s,
                                                 Map<Integer, ProcessSnapshot> byPid,
                                                 Map<Integer, Integer> previousWaiting, RepairPolicy policy,
                                                 Map<String, Instant> done, Map<String, String> declined) {
        Map<Integer, Integer> waitingNow = new HashMap<>();
        for (FuseConnection c : s.fuseConnections()) {
            waitingNow.put(c.id(), c.waiting());
        }
        Map<Integer, List<Map.Entry<String, Finding>>> byConnection = new TreeMap<>();
        Map<Integer, MountEntry> mountOf = new HashMap<>();
        for (Map.Entry<String, Finding> e : new TreeMap<>(findings).entrySet()) {
            Finding f = e.getValue();
            if (!FUSE_STUCK.contains(f.type()) || f.cause() != Cause.FuseRequest) {
                continue;
            }
            Proof proof = provenConnection(f, byPid, s, waitingNow, previousWaiting);
            if (proof.named() == null) {
                declined.put(e.getKey(), proof.notProven());
                continue;
            }
            Named n = proof.named();
            String refusal = policy.fuseTypeRefusal(n.mount().fsType());
            if (refusal != null) {
                declined.put(e.getKey(), "fuse connection " + n.connection() + " (" + n.mount().mountPoint()
                        + ") holds the task, but " + refusal);
                continue;
            }
            byConnection.computeIfAbsent(n.connection(), k -> new ArrayList<>()).add(e);
            mountOf.putIfAbsent(n.connection(), n.mount());
        }
        List<RepairAction> out = new ArrayList<>();
        for (Map.Entry<Integer, List<Map.Entry<String, Finding>>> c : byConnection.entrySet()) {
            int conn = c.getKey();
            String key = "fuse/" + conn;
            if (done.containsKey(key)) {
                continue;
            }
            List<Map.Entry<String, Finding>> stuck = c.getValue();
            Finding first = stuck.get(0).getValue();
            MountEntry m = mountOf.get(conn);
            List<String> tasks = new ArrayList<>();
            for (Map.Entry<String, Finding> e : stuck.subList(0, Math.min(MAX_LISTED, stuck.size()))) {
                Finding f = e.getValue();
                tasks.add(f.type() + " pid " + f.pid() + " (" + f.comm() + ")");
            }
            String more = stuck.size() > MAX_LISTED ? " and " + (stuck.size() - MAX_LISTED) + " more" : "";
            String reason = "fuse connection " + conn + " (" + m.fsType() + " on " + m.mountPoint() + ") has "
                    + waitingNow.get(conn) + " request(s) waiting and holds " + String.join(", ", tasks) + more
                    + ", each blocked in a FUSE request for an open file on it (device 0:" + conn + ") or in a path"
                    + " walk through it, the only busy FUSE connection in its view"
                    + "; aborting it fails those requests with ENOTCONN so the tasks can exit (the filesystem must "
                    + "then be remounted)";
            out.add(new RepairAction(RepairKind.AbortFuseConnection, key, conn, null, null, first.containerId(),
                    stuck.stream().limit(MAX_LISTED).map(Map.Entry::getKey).toList(), reason));
        }
        return out;
    }

    /**
     * The connection the finding's task waits on, from its own evidence, or why it is not proven.
     */
    static Proof provenConnection(Finding f, Map<Integer, ProcessSnapshot> byPid, HostSnapshot s,
                                   Map<Integer, Integer> waitingNow, Map<Integer, Integer> previousWaiting) {
        ProcessSnapshot p = f.pid() == null ? null : byPid.get(f.pid());
        if (p == null) {
            return Proof.not("the task is not in the snapshot");
        }
        List<String> stack = f.kernelStack() == null ? List.of() : f.kernelStack();
        if (stack.isEmpty()) {
            return Proof.not("its kernel stack was not read: whether the request is for an open file is not shown");
        }
        for (String frame : stack) {
            if (NO_FILE_SHOWN.matcher(frame).matches()) {
                return Proof.not("its stack shows " + frame + ": the request is not for a file the task has open, so its "
                        + "files do not show the connection");
            }
        }
        if (stack.stream().anyMatch(fr -> PATH_WALK.matcher(fr).matches())) {
            return walkedConnection(p, s, waitingNow, previousWaiting, stack);
        }
        if (stack.stream().noneMatch(fr -> FD_CALL.matcher(fr).matches())) {
            return Proof.not("its stack shows no system call on a file descriptor: the request's file is not shown");
        }
        OpenFiles files = p.files();
        if (files == null || !files.read() || !files.allFiles()) {
            return Proof.not("its open files were not all read");
        }
        if (!files.fdPaths().isEmpty()) {
            // kernels before 3.15: no mnt_id, so the mount of a file is only guessed from its path
            return Proof.not("its open files' mounts are known only by path (no mnt_id in fdinfo)");
        }
        List<MountEntry> own = p.mountNamespace() == null ? List.of()
                : s.mounts().getOrDefault(p.mountNamespace(), List.of());
        Map<Integer, Named> named = new TreeMap<>();
        for (int id : files.mountIds()) {
            MountEntry m = byId(id, own, s);
            if (m == null) {
                return Proof.not("an open file is on mount " + id + ", which no mount table read shows (a lazily unmounted "
                        + "mount?): the request may be for that file");
            }
            if (m.isFuse() && m.major() == 0) {
                named.putIfAbsent(m.minor(), new Named(m.minor(), m));
            }
        }
        List<Named> busy = named.values().stream()
                .filter(n -> waitingNow.getOrDefault(n.connection(), 0) > 0
                        && previousWaiting.getOrDefault(n.connection(), 0) > 0)
                .toList();
        if (busy.size() == 1) {
            return Proof.of(busy.get(0));
        }
        if (busy.isEmpty()) {
            return Proof.not(named.isEmpty() ? "none of its open files is on a FUSE mount"
                    : "no FUSE connection of its open files (" + named.keySet() + ") has had requests waiting in "
                    + "this scan and the previous one");
        }
        return Proof.not("its open files are on " + busy.size() + " FUSE connections with requests waiting ("
                + busy.stream().map(n -> Integer.toString(n.connection())).toList() + "): which one it waits on is "
                + "not shown");
    }

    /**
     * A path walk (runc init's chdir into a container's working directory, a stat, an open by name) resolves a
     * name from the task's root or cwd — through mounts in its own mount table — or from a directory it holds
     * open. So: every open file read, each on a known mount and none on a FUSE mount outside its own table (a
     * walk may start at such a directory), and exactly one FUSE connection of its own table with requests waiting
     * in this scan and the previous one: that is the one its walk waits on. (A cwd on a lazily unmounted mount is
     * not shown by mountinfo; the default fuseTypesDenied keeps lxcfs, the common busy healthy mount, out.)
     */
    static Proof walkedConnection(ProcessSnapshot p, HostSnapshot s, Map<Integer, Integer> waitingNow,
                                  Map<Integer, Integer> previousWaiting, List<String> stack) {
        String walk = stack.stream().filter(fr -> PATH_WALK.matcher(fr).matches()).findFirst().orElse("a path walk");
        List<MountEntry> own = p.mountNamespace() == null ? List.of()
                : s.mounts().getOrDefault(p.mountNamespace(), List.of());
        if (own.isEmpty()) {
            return Proof.not("its stack shows " + walk + " (a name being resolved) and its mount table was not read");
        }
        OpenFiles files = p.files();
        if (files == null || !files.read() || !files.allFiles()) {
            return Proof.not("its stack shows " + walk + " and its open files were not all read (a walk may start "
                    + "at an open directory)");
        }
        if (!files.fdPaths().isEmpty()) {
            return Proof.not("its open files' mounts are known only by path (no mnt_id in fdinfo)");
        }
        for (int id : files.mountIds()) {
            MountEntry m = byId(id, own, s);
            if (m == null) {
                return Proof.not("an open file is on mount " + id + ", which no mount table read shows (a lazily "
                        + "unmounted mount?): a walk may start there");
            }
            if (m.isFuse() && own.stream().noneMatch(o -> o.id() == m.id())) {
                return Proof.not("an open file is on FUSE mount " + m.mountPoint() + " (connection " + m.minor()
                        + ") outside its mount namespace: its walk (" + walk + ") may start there");
            }
        }
        Map<Integer, Named> busy = new TreeMap<>();
        for (MountEntry m : own) {
            if (m.isFuse() && m.major() == 0 && waitingNow.getOrDefault(m.minor(), 0) > 0
                    && previousWaiting.getOrDefault(m.minor(), 0) > 0) {
                busy.putIfAbsent(m.minor(), new Named(m.minor(), m));
            }
        }
        if (busy.size() == 1) {
            return Proof.of(busy.values().iterator().next());
        }
        return Proof.not("its stack shows " + walk + " and " + (busy.isEmpty()
                ? "no FUSE connection of its mount table has had requests waiting in this scan and the previous one"
                : busy.size() + " FUSE connections of its mount table have requests waiting (" + busy.keySet()
                        + "): which one its walk waits on is not shown"));
    }

    /**
     * Why a process is never signalled as a leaked session, or null: it must be known not to be a container's
     * own process — its pid in its namespace read and not 1, and not the init the runtime's state records.
     */
    static String notASessionTarget(ProcessSnapshot p, HostSnapshot s) {
        if (p.nsPid() < 0) {
            return "pid " + p.pid() + ": its status (NSpid) could not be read, so whether it is the container's "
                    + "init is not known";
        }
        if (p.nsPid() == 1) {
            return "pid " + p.pid() + " is pid 1 of its namespace: the container's init";
        }
        if (s.isContainerInit(p)) {
            return "pid " + p.pid() + " is the container's own process (the runtime's state.json records it as "
                    + "init_process_pid)";
        }
        return null;
    }

    /** A mount by id: in the task's own table, else in any other table read (ids are unique on the host). */
    private static MountEntry byId(int id, List<MountEntry> own, HostSnapshot s) {
        for (MountEntry m : own) {
            if (m.id() == id) {
                return m;
            }
        }
        for (List<MountEntry> table : s.mounts().values()) {
            for (MountEntry m : table) {
                if (m.id() == id) {
                    return m;
                }
            }
        }
        return null;
    }

    private static List<RepairAction> sessionEnds(Map<String, Finding> findings, HostSnapshot s,
                                                  Map<Integer, ProcessSnapshot> byPid, RepairPolicy policy,
                                                  Map<String, Instant> done, Instant now,
                                                  Map<String, String> declined) {
        List<RepairAction> out = new ArrayList<>();
        for (Map.Entry<String, Finding> e : new TreeMap<>(findings).entrySet()) {
            Finding f = e.getValue();
            if (f.type() != FindingType.LeakedExecSession || f.pid() == null) {
                continue;
            }
            ProcessSnapshot p = byPid.get(f.pid());
            if (p == null) {
                continue;
            }
            String notTarget = notASessionTarget(p, s);
            if (notTarget != null) {
                declined.put(e.getKey(), notTarget);
                continue;
            }
            String id = p.pid() + "@" + p.startTimeTicks();
            Instant hungUp = done.get("hup/" + id);
            double idle = LeakedExecSessionDetector.idleSeconds(p);
            String who = "exec session pid " + p.pid() + " (" + p.comm() + ") in " + Evidence.shortId(p.containerId());
            if (hungUp == null) {
                if (idle >= policy.leakedExecSessionTtl().toSeconds()) {
                    out.add(new RepairAction(RepairKind.HangUpLeakedSession, "hup/" + id, null, p.pid(),
                            p.startTimeTicks(), p.containerId(), List.of(e.getKey()), who + " has been idle for "
                            + Evidence.duration(idle) + ", past the TTL of "
                            + Evidence.duration(policy.leakedExecSessionTtl().toSeconds())
                            + "; sending SIGHUP, the hangup its vanished client never delivered"));
                }
            } else if (!done.containsKey("kill/" + id)
                    && !now.isBefore(hungUp.plus(policy.hangUpGrace()))) {
                out.add(new RepairAction(RepairKind.KillLeakedSession, "kill/" + id, null, p.pid(), p.startTimeTicks(),
                        p.containerId(), List.of(e.getKey()), who + " is still there "
                        + Duration.between(hungUp, now).toSeconds() + " s after SIGHUP; sending SIGKILL"));
            }
        }
        return out;
    }
}
