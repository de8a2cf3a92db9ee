package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;
import io.execguard.host.ThreadSnapshot;

/** RuntimeUnresponsive, case by case: when a container's unanswered runtime call is a finding, and what it names. */
class RuntimeCallRulesTest {

    static final String CID = ExecPathRulesTest.CID;
    static final String OTHER = ExecPathRulesTest.OTHER;
    static final String SANDBOX = "a6114e35bbe6aa6114e35bbe6aa6114e35bbe6aa6114e35bbe6aa6114e35bbe6";
    static final String OTHER_SANDBOX = "60f3ad90356f60f3ad90356f60f3ad90356f60f3ad90356f60f3ad90356f6000";

    private final RuntimeCallRules rules = new RuntimeCallRules();

    static RuntimeCallObservation.Unanswered unanswered(String cid, String sandbox, double seconds) {
        return new RuntimeCallObservation.Unanswered(cid, sandbox, "uid-" + cid.substring(0, 4), "ns/pod-"
                + cid.substring(0, 4), "main", "ContainerStats", seconds, 2, null);
    }

    static RuntimeCallObservation.Unanswered withShim(RuntimeCallObservation.Unanswered u, CanaryObservation.Task t) {
        return new RuntimeCallObservation.Unanswered(u.containerId(), u.sandboxId(), u.podUid(), u.podName(),
                u.containerName(), u.call(), u.unansweredSeconds(), u.calls(), t);
    }

    static RuntimeCallObservation answers(RuntimeCallObservation.Unanswered... u) {
        return new RuntimeCallObservation(true, null, 5, List.of(u));
    }

    static ProcessSnapshot shim(int pid, String sandbox, char state, String wchan) {
        ThreadSnapshot t = new ThreadSnapshot(pid, "containerd-shim", state, 0x400100L, 0, 0, wchan, List.of(), 10, 30);
        return new ProcessSnapshot(pid, 1, "systemd", "containerd-shim", 100, 300, 0,
                Read.ok("/usr/bin/containerd-shim-runc-v2\0-namespace\0k8s.io\0-id\0" + sandbox
                        + "\0-address\0/run/containerd/containerd.sock\0"), null, -1, null, Double.NaN, List.of(t));
    }

    static HostSnapshot host(ProcessSnapshot... ps) {
        return ExecPathRulesTest.host(ps);
    }

    record Case(String name, RuntimeCallObservation o, HostSnapshot s, List<String> containers, Integer pid) {
    }

    @Test
    void whenAnUnansweredCallIsAFinding() {
        HostSnapshot shims = host(shim(70, SANDBOX, 'T', "do_signal_stop"), shim(71, OTHER_SANDBOX, 'S', "ep_poll"));
        List<Case> cases = List.of(
                new Case("nothing unanswered", answers(), shims, List.of(), null),
                new Case("one container past the deadline: its shim named", answers(unanswered(CID, SANDBOX, 6.2)),
                        shims, List.of(CID), 70),
                new Case("exactly at the deadline", answers(unanswered(CID, SANDBOX, 5.0)), shims, List.of(CID), 70),
                new Case("before the deadline: not yet", answers(unanswered(CID, SANDBOX, 4.9)), shims, List.of(), null),
                new Case("two containers, each its own", answers(unanswered(CID, SANDBOX, 9),
                        unanswered(OTHER, OTHER_SANDBOX, 7)), shims, List.of(CID, OTHER), 70),
                new Case("the shim not in the scan: still a finding, no pid", answers(unanswered(CID, SANDBOX, 8)),
                        host(shim(71, OTHER_SANDBOX, 'S', null)), List.of(CID), null),
                new Case("no sandbox id: no shim", answers(unanswered(CID, "", 8)), shims, List.of(CID), null),
                new Case("the shim the sweep read (the init's parent) wins over the scan's", answers(withShim(
                        unanswered(CID, SANDBOX, 8), new CanaryObservation.Task(90, "containerd-shim", 'T', null))),
                        shims, List.of(CID), 90),
                new Case("the sweep's shim alone", answers(withShim(unanswered(CID, "", 8),
                        new CanaryObservation.Task(90, "containerd-shim", 'T', null))), host(), List.of(CID), 90),
                new Case("the daemon does not answer: no container is blamed", new RuntimeCallObservation(false,
                        "CRI Version: no answer", 5, List.of(unanswered(CID, SANDBOX, 30),
                        unanswered(OTHER, OTHER_SANDBOX, 30))), shims, List.of(), null));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            List<Finding> fs = rules.findings(c.o(), c.s());
            List<String> got = fs.stream().map(Finding::containerId).toList();
            Integer pid = fs.isEmpty() ? null : fs.get(0).pid();
            if (!got.equals(c.containers()) || !java.util.Objects.equals(pid, c.pid())) {
                wrong.add(c.name() + ": containers " + got + " pid " + pid);
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(List.of(), rules.findings(null, shims), "no sweep: no finding");
    }

    @Test
    void theFindingNamesTheContainerThePodTheCallAndTheShim() {
        Finding f = rules.findings(answers(unanswered(CID, SANDBOX, 6.4)),
                host(shim(70, SANDBOX, 'T', "do_signal_stop"))).get(0);
        assertEquals(FindingType.RuntimeUnresponsive, f.type());
        assertEquals(Severity.Warning, f.severity());
        assertEquals(Scope.Container, f.scope());
        assertEquals(CID, f.containerId());
        assertEquals("uid-9f2c", f.podUid());
        assertEquals(70, f.pid());
        assertEquals("T", f.state());
        assertEquals("containerd-shim", f.comm());
        assertEquals(6L, f.ageSeconds());
        assertNull(f.stage());
        assertTrue(f.message().contains("ContainerStats") && f.message().contains("ns/pod-9f2c")
                && f.message().contains("6s") && f.message().contains("pid 70") && f.message().contains("stopped")
                && f.message().contains("2 calls in a row"), f.message());
        Finding blocked = rules.findings(answers(unanswered(CID, SANDBOX, 6)),
                host(shim(70, SANDBOX, 'D', "fuse_wait"))).get(0);
        assertTrue(blocked.message().contains("blocked in the kernel in fuse_wait"), blocked.message());
        Finding noShim = rules.findings(answers(unanswered(CID, SANDBOX, 6)), host()).get(0);
        assertTrue(noShim.message().contains("-id a6114e35bbe6") && noShim.message().contains("not found"),
                noShim.message());
    }

    @Test
    void anotherShimsArgumentsDoNotMatch() {
        // -id is followed by the sandbox id; a sandbox id elsewhere in argv (e.g. -address) is not the shim's
        ProcessSnapshot other = new ProcessSnapshot(72, 1, "systemd", "containerd-shim", 100, 300, 0,
                Read.ok("/usr/bin/containerd-shim-runc-v2\0-id\0" + OTHER_SANDBOX + "\0-address\0" + SANDBOX + "\0"),
                null, -1, null, Double.NaN, List.of(new ThreadSnapshot(72, "containerd-shim", 'S', 0, 0, 0, null,
                List.of(), 1, 1)));
        assertNull(RuntimeCallRules.shim(host(other), SANDBOX));
        assertEquals(72, RuntimeCallRules.shim(host(other), OTHER_SANDBOX).pid());
        assertNull(RuntimeCallRules.shim(new HostSnapshot(ExecPathRulesTest.HOST, List.of(), List.of(), Map.of(),
                List.of(), 0, List.of(), Map.of(), Map.of()), SANDBOX));
    }
}
