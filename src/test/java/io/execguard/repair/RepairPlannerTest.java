package io.execguard.repair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
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
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;
import io.execguard.host.ThreadSnapshot;

/** The repair rules as a table: which findings and host facts lead to which actions. */
class RepairPlannerTest {

    static final String CID = "e318f67bce5c36e39bc2e0c136ea9cd366b22ba5ae216c485232ce4a0541858b";
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final HostInfo HOST = new HostInfo("node-a", "6.1.0", "hybrid", List.of("containerd"), 3, 4096, 16384, 0,
            1048576, 1000);
    static final RepairPolicy ALL = new RepairPolicy(true, true, Duration.ofHours(1), false, Duration.ofSeconds(10));
    static final MountRef FUSE_52 = new MountRef("fuse.bindfs", "bindfs", "/data", 52);

    static Finding stuck(FindingType type, Cause cause, int pid, MountRef mount) {
        return new Finding(type, cause, Severity.Critical, Scope.Container, "stuck", pid, null, "runc:[2:INIT]", "D",
                "request_wait_answer", List.of("request_wait_answer"), List.of("SIGKILL"), 60L, CID, null, null, mount);
    }

    static Finding leaked(int pid) {
        return new Finding(FindingType.LeakedExecSession, Cause.Unknown, Severity.Warning, Scope.Container, "leaked", pid, null, "sh",
                "S", "n_tty_read", List.of(), List.of(), 7200L, CID, null, null, null);
    }

    /** A shell child of the shim whose terminal was last touched {@code ttyIdle} seconds ago. */
    static ProcessSnapshot shell(int pid, long start, double ttyIdle) {
        return new ProcessSnapshot(pid, 10, "containerd-shim", "sh", start, 7200, 34816, Read.ok("sh\0"), null, 7,
                null, ttyIdle, List.of(new ThreadSnapshot(pid, "sh", 'S', 0, 0, 0, "n_tty_read", List.of(), 5, 7000)));
    }

    static HostSnapshot host(List<FuseConnection> conns, ProcessSnapshot... ps) {
        return new HostSnapshot(HOST, List.of(ps), List.of(), Map.of(), conns, 100, List.of());
    }

    static Map<String, Finding> findings(Object... idAndFinding) {
        Map<String, Finding> m = new LinkedHashMap<>();
        for (int i = 0; i < idAndFinding.length; i += 2) {
            m.put((String) idAndFinding[i], (Finding) idAndFinding[i + 1]);
        }
        return m;
    }

    @Test
    void abortsTheConnectionStuckTasksWaitOnOnceForAllOfThem() {
        var f = findings("u/1", stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52),
                "s/2", stuck(FindingType.StuckRuntimeInit, Cause.FuseRequest, 101, FUSE_52));
        List<RepairAction> plan = RepairPlanner.plan(f, host(List.of(new FuseConnection(52, 2), new FuseConnection(53, 0))),
                ALL, Map.of(), NOW);
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
        record Case(String name, Finding finding, List<FuseConnection> conns, RepairPolicy policy, Map<String, Instant> done) {
        }
        RepairPolicy abortOff = new RepairPolicy(false, true, Duration.ofHours(1), false, Duration.ofSeconds(10));
        List<Case> cases = List.of(
                new Case("no request waiting any more", stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100,
                        FUSE_52), List.of(new FuseConnection(52, 0)), ALL, Map.of()),
                new Case("connection gone", stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52),
                        List.of(new FuseConnection(53, 4)), ALL, Map.of()),
                new Case("hung task only (not unkillable, not runc init)", stuck(FindingType.HungTask,
                        Cause.FuseRequest, 100, FUSE_52), List.of(new FuseConnection(52, 1)), ALL, Map.of()),
                new Case("stuck on NFS, not FUSE", stuck(FindingType.UnkillableTask, Cause.NfsRequest, 100,
                        new MountRef("nfs4", "srv:/x", "/data", null)), List.of(new FuseConnection(52, 1)), ALL,
                        Map.of()),
                new Case("FUSE cause but no connection known", stuck(FindingType.UnkillableTask, Cause.FuseRequest,
                        100, null), List.of(new FuseConnection(52, 1)), ALL, Map.of()),
                new Case("switched off", stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52),
                        List.of(new FuseConnection(52, 1)), abortOff, Map.of()),
                new Case("already aborted", stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52),
                        List.of(new FuseConnection(52, 1)), ALL, Map.of("fuse/52", NOW.minusSeconds(5))));
        for (Case c : cases) {
            List<RepairAction> plan = RepairPlanner.plan(findings("id", c.finding()), host(c.conns()), c.policy(),
                    c.done(), NOW);
            assertEquals(List.of(), plan, c.name());
        }
    }

    @Test
    void leakedSessionGetsHangupAfterTheTtlThenKillAfterTheGrace() {
        ProcessSnapshot sh = shell(300, 4242, 3 * 3600);
        var f = findings("leak/300", leaked(300));
        List<RepairAction> first = RepairPlanner.plan(f, host(List.of(), sh), ALL, Map.of(), NOW);
        assertEquals(1, first.size());
        assertEquals(RepairKind.HangUpLeakedSession, first.get(0).kind());
        assertEquals("hup/300@4242", first.get(0).key());
        assertEquals(4242L, first.get(0).startTimeTicks());

        // hung up 5 s ago: within the grace, nothing
        assertEquals(List.of(), RepairPlanner.plan(f, host(List.of(), sh), ALL, Map.of("hup/300@4242",
                NOW.minusSeconds(5)), NOW));
        // 10 s ago and still there: SIGKILL, once
        List<RepairAction> kill = RepairPlanner.plan(f, host(List.of(), sh), ALL,
                Map.of("hup/300@4242", NOW.minusSeconds(10)), NOW);
        assertEquals(RepairKind.KillLeakedSession, kill.get(0).kind());
        assertEquals("kill/300@4242", kill.get(0).key());
        assertEquals(List.of(), RepairPlanner.plan(f, host(List.of(), sh), ALL,
                Map.of("hup/300@4242", NOW.minusSeconds(20), "kill/300@4242", NOW.minusSeconds(10)), NOW));
    }

    @Test
    void leakedSessionIsLeftAloneBeforeItsTtlOrWhenTheKillSwitchIsOff() {
        // idle 50 min (+8 s kernel granularity) with a 1 h TTL
        ProcessSnapshot young = shell(300, 4242, 50 * 60 + 8);
        assertEquals(List.of(), RepairPlanner.plan(findings("l", leaked(300)), host(List.of(), young), ALL, Map.of(),
                NOW));
        ProcessSnapshot old = shell(300, 4242, 3 * 3600);
        RepairPolicy off = new RepairPolicy(true, false, Duration.ofHours(1), false, Duration.ofSeconds(10));
        assertEquals(List.of(), RepairPlanner.plan(findings("l", leaked(300)), host(List.of(), old), off, Map.of(),
                NOW));
        // a new process on the same PID is a new session: the old hangup does not count for it
        List<RepairAction> reused = RepairPlanner.plan(findings("l", leaked(300)), host(List.of(), shell(300, 9999,
                3 * 3600)), ALL, Map.of("hup/300@4242", NOW.minusSeconds(60)), NOW);
        assertEquals(RepairKind.HangUpLeakedSession, reused.get(0).kind());
        assertEquals(9999L, reused.get(0).startTimeTicks());
    }
}
