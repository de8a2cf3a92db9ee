package io.execguard.repair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.execguard.detect.Cause;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.MountRef;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostInfo;
import io.execguard.host.HostSnapshot;
import io.execguard.host.MountEntry;
import io.execguard.host.OpenFiles;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;
import io.execguard.host.ThreadSnapshot;

/** The repair rules as a table: which findings and host facts lead to which actions. */
class RepairPlannerTest {

    static final String CID = "e318f67bce5c36e39bc2e0c136ea9cd366b22ba5ae216c485232ce4a0541858b";
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final HostInfo HOST = new HostInfo("node-a", "6.1.0", "hybrid", List.of("containerd"), 3, 4096, 1024, 16384, 0,
            1048576, 1000);
    static final RepairPolicy ALL = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10));
    static final MountRef FUSE_52 = new MountRef("fuse.bindfs", "bindfs", "/data", 52);
    /** The container's mount namespace: its root and /data, FUSE connection 52. */
    static final String CONTAINER_NS = "mnt:[4026532400]";
    static final MountEntry ROOT = new MountEntry(0, 120, "/", "/", "overlay", "overlay", 200);
    static final MountEntry DATA_52 = new MountEntry(0, 52, "/", "/data", "fuse.bindfs", "bindfs", 300);
    /** lxcfs's /proc/meminfo bind-mounted into the container: connection 60, always busy on a loaded node. */
    static final MountEntry LXCFS_60 = new MountEntry(0, 60, "/proc/meminfo", "/proc/meminfo", "fuse.lxcfs", "lxcfs",
            310);
    static final MountEntry SSHFS_61 = new MountEntry(0, 61, "/", "/cache", "fuse.sshfs", "host:/c", 311);
    /** A read on an open file blocked in FUSE (what the kernel shows for read(2) on a FUSE file, 6.x). */
    static final List<String> READ_STACK = List.of("request_wait_answer", "__fuse_simple_request", "fuse_do_readfolio",
            "fuse_read_folio", "filemap_read_folio", "filemap_read", "fuse_file_read_iter", "vfs_read", "ksys_read",
            "do_syscall_64", "entry_SYSCALL_64_after_hwframe");
    /** A lookup blocked in FUSE (stat(2) of a name not cached): the request is for a path, not an open file. */
    static final List<String> LOOKUP_STACK = List.of("request_wait_answer", "__fuse_simple_request",
            "fuse_lookup_name", "fuse_lookup", "__lookup_slow", "walk_component", "path_lookupat", "filename_lookup",
            "vfs_statx", "do_statx", "__x64_sys_statx", "do_syscall_64");
    /** Connection 52 had a request waiting in the previous scan. */
    static final Map<Integer, Integer> BEFORE_52 = Map.of(52, 1);

    static Finding stuck(FindingType type, Cause cause, int pid, MountRef mount) {
        return stuck(type, cause, pid, mount, READ_STACK);
    }

    static Finding stuck(FindingType type, Cause cause, int pid, MountRef mount, List<String> stack) {
        return new Finding(type, cause, Severity.Critical, Scope.Container, "stuck", pid, null, "runc:[2:INIT]", "D",
                "request_wait_answer", stack, List.of("SIGKILL"), 60L, CID, null, null, mount);
    }

    static Finding leaked(int pid) {
        return new Finding(FindingType.LeakedExecSession, Cause.Unknown, Severity.Warning, Scope.Container, "leaked",
                pid, null, "sh", "S", "n_tty_read", List.of(), List.of(), 7200L, CID, null, null, null);
    }

    /** A task of the container, in its mount namespace, with one file open on /data (mount 300, connection 52). */
    static ProcessSnapshot task(int pid) {
        return task(pid, new OpenFiles("/", "/", List.of(DATA_52.id()), List.of(), true));
    }

    static ProcessSnapshot task(int pid, OpenFiles files) {
        return new ProcessSnapshot(pid, 10, "runc", "runc:[2:INIT]", 1000 + pid, 60, 0, Read.ok("runc\0init\0"), null,
                5, CONTAINER_NS, Double.NaN, List.of(new ThreadSnapshot(pid, "runc:[2:INIT]", 'D', 0, 1L << 8, 0,
                "request_wait_answer", READ_STACK, 5, 60)), true, files);
    }

    /** Open files on these mounts (by mount id), cwd and root on the container's root. */
    static OpenFiles filesOn(MountEntry... mounts) {
        return new OpenFiles("/", "/", java.util.Arrays.stream(mounts).map(MountEntry::id).toList(), List.of(), true);
    }

    /** A shell child of the shim whose terminal was last touched {@code ttyIdle} seconds ago. */
    static ProcessSnapshot shell(int pid, long start, double ttyIdle) {
        return new ProcessSnapshot(pid, 10, "containerd-shim", "sh", start, 7200, 34816, Read.ok("sh\0"), null, 7,
                null, ttyIdle, List.of(new ThreadSnapshot(pid, "sh", 'S', 0, 0, 0, "n_tty_read", List.of(), 5, 7000)));
    }

    /** A host with these FUSE connections, the container's mounts, and these processes. */
    static HostSnapshot host(List<FuseConnection> conns, List<MountEntry> containerMounts, ProcessSnapshot... ps) {
        return new HostSnapshot(HOST, List.of(ps), List.of(), Map.of(CONTAINER_NS, containerMounts), conns, 100,
                List.of());
    }

    static HostSnapshot host(List<FuseConnection> conns, ProcessSnapshot... ps) {
        return host(conns, List.of(ROOT, DATA_52), ps);
    }

    static Map<String, Finding> findings(Object... idAndFinding) {
        Map<String, Finding> m = new LinkedHashMap<>();
        for (int i = 0; i < idAndFinding.length; i += 2) {
            m.put((String) idAndFinding[i], (Finding) idAndFinding[i + 1]);
        }
        return m;
    }

    static List<RepairAction> plan(Map<String, Finding> f, HostSnapshot s, Map<Integer, Integer> before,
                                   RepairPolicy p, Map<String, Instant> done) {
        return RepairPlanner.plan(f, s, before, p, done, NOW);
    }

    @Test
    void abortsTheConnectionStuckTasksWaitOnOnceForAllOfThem() {
        var f = findings("u/1", stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52),
                "s/2", stuck(FindingType.StuckRuntimeInit, Cause.FuseRequest, 101, FUSE_52));
        List<RepairAction> plan = plan(f, host(List.of(new FuseConnection(52, 2), new FuseConnection(53, 1)),
                task(100), task(101)), BEFORE_52, ALL, Map.of());
        assertEquals(1, plan.size(), plan::toString);
        RepairAction a = plan.get(0);
        assertEquals(RepairKind.AbortFuseConnection, a.kind());
        assertEquals(52, a.fuseConnection());
        assertEquals("fuse/52", a.key());
        assertEquals(List.of("s/2", "u/1"), a.findingIds());
        assertTrue(a.reason().contains("2 request(s) waiting") && a.reason().contains("/data")
                && a.reason().contains("UnkillableTask pid 100"), a.reason());
    }

    @Test
    void neverAbortsWithoutProofThatTheConnectionHoldsAStuckTask() {
        record Case(String name, Finding finding, List<FuseConnection> conns, List<MountEntry> mounts,
                    Map<Integer, Integer> before, RepairPolicy policy, Map<String, Instant> done) {
        }
        Finding unkillable = stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52);
        List<FuseConnection> busy52 = List.of(new FuseConnection(52, 1));
        List<MountEntry> mounts = List.of(ROOT, DATA_52);
        RepairPolicy abortOff = new RepairPolicy(false, true, Duration.ofHours(1), false, Duration.ofSeconds(10));
        List<Case> cases = List.of(
                new Case("no request waiting any more", unkillable, List.of(new FuseConnection(52, 0)), mounts,
                        BEFORE_52, ALL, Map.of()),
                new Case("no request waiting in the previous scan (e.g. the probe's first scan)", unkillable, busy52,
                        mounts, Map.of(), ALL, Map.of()),
                new Case("connection gone", unkillable, List.of(new FuseConnection(53, 4)), mounts, BEFORE_52, ALL,
                        Map.of()),
                new Case("the task's open file is on a mount no table shows (lazily unmounted)", unkillable, busy52,
                        List.of(ROOT), BEFORE_52, ALL, Map.of()),
                new Case("blocked in a lookup, but its mount table has no busy FUSE connection (52 is not in it)",
                        stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52, LOOKUP_STACK), busy52,
                        List.of(ROOT), BEFORE_52, ALL, Map.of()),
                new Case("blocked closing a file (FUSE_FLUSH): it is out of the fd table already",
                        stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52,
                                List.of("request_wait_answer", "__fuse_simple_request", "fuse_flush", "filp_flush",
                                        "put_files_struct", "do_exit", "do_group_exit", "get_signal")),
                        busy52, mounts, BEFORE_52, ALL, Map.of()),
                new Case("kernel stack not read (wchan only)", stuck(FindingType.UnkillableTask, Cause.FuseRequest,
                        100, FUSE_52, List.of()), busy52, mounts, BEFORE_52, ALL, Map.of()),
                new Case("hung task only (not unkillable, not runc init)", stuck(FindingType.HungTask,
                        Cause.FuseRequest, 100, FUSE_52), busy52, mounts, BEFORE_52, ALL, Map.of()),
                new Case("stuck on NFS, not FUSE", stuck(FindingType.UnkillableTask, Cause.NfsRequest, 100,
                        new MountRef("nfs4", "srv:/x", "/data", null)), busy52, mounts, BEFORE_52, ALL, Map.of()),
                new Case("switched off", unkillable, busy52, mounts, BEFORE_52, abortOff, Map.of()),
                new Case("already aborted", unkillable, busy52, mounts, BEFORE_52, ALL,
                        Map.of("fuse/52", NOW.minusSeconds(5))));
        for (Case c : cases) {
            List<RepairAction> plan = plan(findings("id", c.finding()), host(c.conns(), c.mounts(), task(100)),
                    c.before(), c.policy(), c.done());
            assertEquals(List.of(), plan, c.name());
        }
        // the task's open files unknown (not read): not proven either
        ProcessSnapshot noNs = new ProcessSnapshot(100, 10, "runc", "runc:[2:INIT]", 1100, 60, 0, Read.ok(""), null, 5,
                null, Double.NaN, task(100).threads());
        assertEquals(List.of(), plan(findings("id", unkillable), host(busy52, noNs), BEFORE_52, ALL, Map.of()));
        // control: the same with everything in place is aborted
        assertEquals(1, plan(findings("id", unkillable), host(busy52, task(100)), BEFORE_52, ALL, Map.of()).size());
    }

    /** Host table (initial mount namespace): the stuck connection 52 is mounted there, not in the container. */
    static final String HOST_NS = "mnt:[4026531841]";

    static HostSnapshot hostWithTables(List<FuseConnection> conns, List<MountEntry> containerMounts,
                                       List<MountEntry> hostMounts, ProcessSnapshot... ps) {
        return new HostSnapshot(HOST, List.of(ps), List.of(), Map.of(CONTAINER_NS, containerMounts, HOST_NS,
                hostMounts), conns, 100, List.of());
    }

    @Test
    void theConnectionComesFromTheStuckTasksOwnFilesNotFromWhatIsBusyInItsView() {
        record Case(String name, Finding finding, OpenFiles files, RepairPolicy policy, Integer aborted,
                    String declined) {
        }
        // lxcfs (60) and sshfs (61) are in the container's view and busy; the stuck bindfs (52) is not in its
        // view (a snapshotter layer, or lazily unmounted there) but in the host's table
        List<FuseConnection> conns = List.of(new FuseConnection(52, 1), new FuseConnection(60, 4),
                new FuseConnection(61, 2));
        Map<Integer, Integer> before = Map.of(52, 1, 60, 3, 61, 5);
        List<MountEntry> view = List.of(ROOT, LXCFS_60, SSHFS_61);
        List<MountEntry> hostTable = List.of(new MountEntry(8, 1, "/", "/", "ext4", "/dev/sda1", 1), DATA_52);
        MountRef lxcfsRef = new MountRef("fuse.lxcfs", "lxcfs", "/proc/meminfo", 60);
        RepairPolicy anyType = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10),
                java.util.Set.of(), java.util.Set.of());
        RepairPolicy sshfsDenied = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10),
                java.util.Set.of(), java.util.Set.of("sshfs"));
        RepairPolicy bindfsOnly = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10),
                java.util.Set.of("fuse.bindfs"), java.util.Set.of());
        Finding onRead = stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, lxcfsRef);
        Finding onLookup = stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, lxcfsRef, LOOKUP_STACK);
        List<Case> cases = List.of(
                new Case("no file on FUSE: the busy lxcfs and sshfs in view are not evidence", onRead, filesOn(ROOT),
                        anyType, null, "none of its open files is on a FUSE mount"),
                new Case("lookup, busy lxcfs and sshfs in view: which one its walk waits on is not shown", onLookup,
                        filesOn(ROOT), anyType, null, "2 FUSE connections of its mount table"),
                new Case("lookup, a directory open on the stuck mount outside its view: the walk may start there",
                        onLookup, filesOn(ROOT, DATA_52), anyType, null, "outside its mount namespace"),
                new Case("an open file on the stuck connection, found in the host's table", onRead,
                        filesOn(ROOT, DATA_52), anyType, 52, null),
                new Case("same, under the default policy", onRead, filesOn(ROOT, DATA_52), ALL, 52, null),
                new Case("files on the stuck one and on busy lxcfs: which one is not shown", onRead,
                        filesOn(ROOT, DATA_52, LXCFS_60), anyType, null, "2 FUSE connections"),
                new Case("a file on busy lxcfs only: denied by default", onRead, filesOn(ROOT, LXCFS_60), ALL, null,
                        "fuse.lxcfs is in remediation.fuseTypesDenied"),
                new Case("a file on busy sshfs only, sshfs denied", onRead, filesOn(ROOT, SSHFS_61), sshfsDenied,
                        null, "fuse.sshfs is in remediation.fuseTypesDenied"),
                new Case("a file on busy sshfs only, only bindfs allowed", onRead, filesOn(ROOT, SSHFS_61), bindfsOnly,
                        null, "fuse.sshfs is not in remediation.fuseTypesAllowed"),
                new Case("a file on busy sshfs only, sshfs allowed", onRead, filesOn(ROOT, SSHFS_61), anyType, 61,
                        null),
                new Case("more files than were looked at", onRead,
                        new OpenFiles("/", "/", List.of(DATA_52.id()), List.of(), true, false), anyType, null,
                        "not all read"),
                new Case("a kernel without mnt_id: mounts only guessed from paths", onRead,
                        new OpenFiles("/", "/", List.of(), List.of("/data/f"), true), anyType, null, "only by path"));
        for (Case c : cases) {
            HostSnapshot s = hostWithTables(conns, view, hostTable, task(100, c.files()));
            RepairPlanner.Plan plan = RepairPlanner.decide(findings("u/100", c.finding()), s, before, c.policy(),
                    Map.of(), NOW);
            if (c.aborted() == null) {
                assertEquals(List.of(), plan.actions(), c.name());
                assertTrue(plan.declined().getOrDefault("u/100", "").contains(c.declined()),
                        c.name() + ": " + plan.declined());
            } else {
                assertEquals(1, plan.actions().size(), c.name() + ": " + plan);
                assertEquals(c.aborted(), plan.actions().get(0).fuseConnection(), c.name());
                assertEquals(Map.of(), plan.declined(), c.name());
            }
        }
    }

    @Test
    void aPathWalkWaitsOnTheOnlyBusyFuseConnectionOfItsOwnMountTable() {
        // runc init's chdir into a working directory on a hung FUSE mount: no open file shows the connection, but
        // a walk from the task's root or cwd crosses only mounts of its own table
        RepairPolicy anyType = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10),
                java.util.Set.of(), java.util.Set.of());
        List<String> chdir = List.of("request_wait_answer", "__fuse_simple_request", "fuse_lookup_name",
                "fuse_lookup", "__lookup_slow", "walk_component", "path_lookupat", "filename_lookup",
                "user_path_at_empty", "__x64_sys_chdir", "do_syscall_64");
        Finding init = stuck(FindingType.StuckRuntimeInit, Cause.FuseRequest, 100, FUSE_52, chdir);
        // 52 in its view and busy, 60 busy outside it (the lower layer of a stacked mount, say): 52
        HostSnapshot s = host(List.of(new FuseConnection(52, 1), new FuseConnection(60, 4)), List.of(ROOT, DATA_52),
                task(100, filesOn(ROOT)));
        List<RepairAction> plan = plan(findings("i/100", init), s, Map.of(52, 1, 60, 3), anyType, Map.of());
        assertEquals(1, plan.size(), plan.toString());
        assertEquals(52, plan.get(0).fuseConnection());
        assertTrue(plan.get(0).reason().contains("path walk"), plan.get(0).reason());
        // the first scan (no previous count) proves nothing
        assertEquals(List.of(), plan(findings("i/100", init), s, Map.of(), anyType, Map.of()));
        // lxcfs busy in view too: ambiguous, nothing
        HostSnapshot two = host(List.of(new FuseConnection(52, 1), new FuseConnection(60, 4)),
                List.of(ROOT, DATA_52, LXCFS_60), task(100, filesOn(ROOT)));
        assertEquals(List.of(), plan(findings("i/100", init), two, Map.of(52, 1, 60, 3), anyType, Map.of()));
        // and an exec (bprm) or a page fault never: no file shows their request
        Finding exec = stuck(FindingType.StuckRuntimeInit, Cause.FuseRequest, 100, FUSE_52,
                List.of("request_wait_answer", "fuse_open", "do_open_execat", "bprm_execve", "__x64_sys_execve"));
        assertEquals(List.of(), plan(findings("i/100", exec), s, Map.of(52, 1, 60, 3), anyType, Map.of()));
    }

    @Test
    void aLoneBusyHealthyMountInTheTasksViewIsNeverAborted() {
        // the old rule ("the only busy FUSE mount in the task's view, in two scans") aborted lxcfs here
        RepairPolicy anyType = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10),
                java.util.Set.of(), java.util.Set.of());
        Finding f = stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100,
                new MountRef("fuse.lxcfs", "lxcfs", "/proc/meminfo", 60));
        HostSnapshot s = host(List.of(new FuseConnection(52, 1), new FuseConnection(60, 4)), List.of(ROOT, LXCFS_60),
                task(100, filesOn(ROOT)));
        assertEquals(List.of(), plan(findings("u/100", f), s, Map.of(52, 1, 60, 3), anyType, Map.of()));
    }

    @Test
    void anAbortNamesAtMostTenTasks() {
        Map<String, Finding> many = new LinkedHashMap<>();
        List<ProcessSnapshot> tasks = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            many.put("u/" + (100 + i), stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100 + i, FUSE_52));
            tasks.add(task(100 + i));
        }
        RepairAction a = plan(many, host(List.of(new FuseConnection(52, 25)), tasks.toArray(ProcessSnapshot[]::new)),
                BEFORE_52, ALL, Map.of()).get(0);
        assertEquals(RepairPlanner.MAX_LISTED, a.findingIds().size());
        assertTrue(a.reason().contains("and 15 more"), a.reason());
    }

    @Test
    void leakedSessionGetsHangupAfterTheTtlThenKillAfterTheGrace() {
        ProcessSnapshot sh = shell(300, 4242, 3 * 3600);
        var f = findings("leak/300", leaked(300));
        List<RepairAction> first = plan(f, host(List.of(), sh), Map.of(), ALL, Map.of());
        assertEquals(1, first.size());
        assertEquals(RepairKind.HangUpLeakedSession, first.get(0).kind());
        assertEquals("hup/300@4242", first.get(0).key());
        assertEquals(4242L, first.get(0).startTimeTicks());

        // hung up 5 s ago: within the grace, nothing
        assertEquals(List.of(), plan(f, host(List.of(), sh), Map.of(), ALL, Map.of("hup/300@4242",
                NOW.minusSeconds(5))));
        // 10 s ago and still there: SIGKILL, once
        List<RepairAction> kill = plan(f, host(List.of(), sh), Map.of(), ALL,
                Map.of("hup/300@4242", NOW.minusSeconds(10)));
        assertEquals(RepairKind.KillLeakedSession, kill.get(0).kind());
        assertEquals("kill/300@4242", kill.get(0).key());
        assertEquals(List.of(), plan(f, host(List.of(), sh), Map.of(), ALL,
                Map.of("hup/300@4242", NOW.minusSeconds(20), "kill/300@4242", NOW.minusSeconds(10))));
    }

    @Test
    void leakedSessionIsLeftAloneBeforeItsTtlOrWhenTheKillSwitchIsOff() {
        // idle 50 min (+8 s kernel granularity) with a 1 h TTL
        ProcessSnapshot young = shell(300, 4242, 50 * 60 + 8);
        assertEquals(List.of(), plan(findings("l", leaked(300)), host(List.of(), young), Map.of(), ALL, Map.of()));
        ProcessSnapshot old = shell(300, 4242, 3 * 3600);
        RepairPolicy off = new RepairPolicy(true, false, Duration.ofHours(1), false, Duration.ofSeconds(10));
        assertEquals(List.of(), plan(findings("l", leaked(300)), host(List.of(), old), Map.of(), off, Map.of()));
        // a new process on the same PID is a new session: the old hangup does not count for it
        List<RepairAction> reused = plan(findings("l", leaked(300)), host(List.of(), shell(300, 9999, 3 * 3600)),
                Map.of(), ALL, Map.of("hup/300@4242", NOW.minusSeconds(60)));
        assertEquals(RepairKind.HangUpLeakedSession, reused.get(0).kind());
        assertEquals(9999L, reused.get(0).startTimeTicks());
    }
}
