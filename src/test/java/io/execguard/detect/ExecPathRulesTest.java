package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.execguard.host.CgroupRef;
import io.execguard.host.HostInfo;
import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;
import io.execguard.host.ThreadSnapshot;

/** The exec canary's rules, case by case: which stage a stuck run is given, and when it is stuck or slow at all. */
class ExecPathRulesTest {

    static final String CID = "9f2c6a4f8e1d4b7c9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";
    static final String OTHER = "1111111111111111111111111111111111111111111111111111111111111111";
    static final HostInfo HOST = new HostInfo("n", "6.1", "hybrid", List.of("containerd"), 3, 4096, 1024, 16384, 0,
            1048576, 1000);
    static final CanaryObservation.Task SHIM_RUNNING = new CanaryObservation.Task(40, "containerd-shim", 'S', "ep_poll");
    static final CanaryObservation.Task SHIM_STOPPED = new CanaryObservation.Task(40, "containerd-shim", 'T', "do_signal_stop");

    private final ExecPathRules rules = new ExecPathRules(CauseRules.defaults());

    static CanaryObservation stuck(CanaryObservation.Task shim, CanaryObservation.Task task) {
        return new CanaryObservation(CID, 40, shim, task, 12.0, true, 10, null, 0, 3, 2, 0.05, null);
    }

    static ProcessSnapshot runcInit(int pid, String containerId, char state, String... stack) {
        ThreadSnapshot t = new ThreadSnapshot(pid, "runc:[2:INIT]", state, 0x400100L, 0, 0,
                stack.length == 0 ? null : stack[0], List.of(stack), 10, 30);
        return new ProcessSnapshot(pid, 41, "runc", "runc:[2:INIT]", 100, 30, 0, Read.ok("runc\0init\0"),
                containerId == null ? null : CgroupRef.ofPath("/kubepods/besteffort/pod0c1e4c0a-7e6b-4f7e-9d43-2a1b3c4d5e6f/"
                        + containerId), 5, null, Double.NaN, List.of(t));
    }

    static ProcessSnapshot runcExec(int pid, String containerId) {
        ThreadSnapshot t = new ThreadSnapshot(pid, "runc", 'S', 0x400100L, 0, 0, "futex_wait", List.of(), 10, 30);
        return new ProcessSnapshot(pid, 40, "containerd-shim", "runc", 100, 30, 0,
                Read.ok("runc\0--root\0/run/containerd/runc/k8s.io\0exec\0--process\0/tmp/p.json\0" + containerId + "\0"),
                null, -1, null, Double.NaN, List.of(t));
    }

    static HostSnapshot host(ProcessSnapshot... ps) {
        return new HostSnapshot(HOST, List.of(ps), List.of(), Map.of(), List.of(), 100, List.of(), Map.of(), Map.of());
    }

    record Case(String name, CanaryObservation o, HostSnapshot s, ExecStage stage, Integer pid) {
    }

    @Test
    void stages() {
        List<Case> cases = List.of(
                new Case("nothing below the daemon", stuck(SHIM_RUNNING, null), host(), ExecStage.RuntimeCall, null),
                new Case("shim stopped", stuck(SHIM_STOPPED, null), host(), ExecStage.Shim, 40),
                new Case("shim in D", stuck(new CanaryObservation.Task(40, "containerd-shim", 'D', "fuse"), null), host(),
                        ExecStage.Shim, 40),
                new Case("runc init of the canary's container", stuck(SHIM_RUNNING, null),
                        host(runcInit(50, CID, 'D', "request_wait_answer", "fuse_lookup")), ExecStage.RuncInit, 50),
                new Case("runc init named by its runc exec parent", stuck(SHIM_RUNNING, null),
                        host(runcExec(41, CID), runcInit(50, null, 'D', "request_wait_answer")), ExecStage.RuncInit, 50),
                new Case("runc exec alone", stuck(SHIM_RUNNING, null), host(runcExec(41, CID)), ExecStage.RuncInit, 41),
                new Case("another container's runc init is not ours", stuck(SHIM_RUNNING, null),
                        host(runcInit(50, OTHER, 'D', "request_wait_answer")), ExecStage.RuntimeCall, null),
                new Case("runc wins over a stopped shim", stuck(SHIM_STOPPED, null), host(runcExec(41, CID)),
                        ExecStage.RuncInit, 41),
                new Case("the canary's process alive", stuck(SHIM_RUNNING,
                        new CanaryObservation.Task(60, "canary", 'R', null)), host(), ExecStage.ProcessStart, 60),
                new Case("the canary's process finished", stuck(SHIM_RUNNING,
                        new CanaryObservation.Task(60, "canary", 'Z', null)), host(), ExecStage.Output, 60),
                new Case("ended late: the last stage is kept", new CanaryObservation(CID, 40, null, null, 30.0, false,
                        10, ExecStage.Shim, 0, 3, 2, 14.2, null), host(), ExecStage.Shim, null));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            List<Finding> f = rules.findings(c.o(), c.s(), List.of());
            String got = f.size() + " " + (f.isEmpty() ? null : f.get(0).type() + "/" + f.get(0).stage() + "/"
                    + f.get(0).pid());
            String want = "1 " + FindingType.ExecPathStuck + "/" + c.stage() + "/" + c.pid();
            if (!got.equals(want)) {
                wrong.add(c.name() + ": want " + want + ", got " + got);
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void aStuckFindingIsCriticalNodeScopeAndTakesTheCauseOfTheStuckRuntimeInit() {
        ProcessSnapshot init = runcInit(50, CID, 'D', "request_wait_answer", "fuse_lookup");
        Finding sri = new StuckRuntimeInitDetector(Thresholds.DEFAULTS, CauseRules.defaults())
                .detect(host(init), List.of()).stream().findFirst().orElse(null);
        Finding f = rules.findings(stuck(SHIM_RUNNING, null), host(init), sri == null ? List.of() : List.of(sri)).get(0);
        assertEquals(Severity.Critical, f.severity());
        assertEquals(Scope.Node, f.scope());
        assertEquals(Cause.FuseRequest, f.cause());
        assertEquals(CID, f.containerId());
        assertEquals(12L, f.ageSeconds());
        assertTrue(f.message().contains("no answer for 12s (deadline 10s)"), f.message());
        assertTrue(f.message().contains("runc:[2:INIT], pid 50, state D in request_wait_answer"), f.message());
    }

    @Test
    void atTheRuntimeCallTheDaemonsAnswerToVersionSaysWhetherTheRuntimeIsUnresponsive() {
        CanaryObservation silent = new CanaryObservation(CID, 40, SHIM_RUNNING, null, 12.0, true, 10, null, 0, 3, 2, 0.05,
                new CanaryObservation.DaemonCheck(false, 2.0, 2.0));
        String m = rules.findings(silent, host(), List.of()).get(0).message();
        assertTrue(m.contains("does not answer CRI Version either (no answer in 2000 ms): the runtime is unresponsive"), m);
        CanaryObservation up = new CanaryObservation(CID, 40, SHIM_RUNNING, null, 12.0, true, 10, null, 0, 3, 2, 0.05,
                new CanaryObservation.DaemonCheck(true, 0.003, 2.0));
        m = rules.findings(up, host(), List.of()).get(0).message();
        assertTrue(m.contains("(it answers CRI Version, in 3 ms: the daemon is up but this exec does not progress)"), m);
    }

    @Test
    void notStuckMeansNoFindingUnlessSlowEnoughTimesInARow() {
        CanaryObservation healthy = new CanaryObservation(CID, 40, null, null, null, false, 10, null, 2, 3, 2, 2.4, null);
        assertEquals(List.of(), rules.findings(healthy, host(), List.of()));
        CanaryObservation slow = new CanaryObservation(CID, 40, null, null, null, false, 10, null, 3, 3, 2, 2.4, null);
        List<Finding> f = rules.findings(slow, host(), List.of());
        assertEquals(1, f.size());
        assertEquals(FindingType.ExecPathSlow, f.get(0).type());
        assertEquals(Severity.Warning, f.get(0).severity());
        assertEquals(Scope.Node, f.get(0).scope());
        assertNull(f.get(0).stage());
        assertTrue(f.get(0).message().contains("3 runs in a row (last 2.40s)"), f.get(0).message());
        CanaryObservation stuckAndSlow = new CanaryObservation(CID, 40, SHIM_STOPPED, null, 11.0, true, 10, null, 5, 3,
                2, 2.4, null);
        assertEquals(List.of(FindingType.ExecPathStuck), rules.findings(stuckAndSlow, host(), List.of()).stream()
                .map(Finding::type).toList(), "stuck says more than slow");
    }
}
