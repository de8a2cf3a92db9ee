package io.execguard.probe;

import static io.execguard.probe.ProbeTestData.CID;
import static io.execguard.probe.ProbeTestData.HOST;
import static io.execguard.probe.ProbeTestData.finding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;

class ProbeReportTest {

    private static final Instant T = Instant.parse("2026-11-23T10:00:00Z");
    private static final Set<FindingType> UNHEALTHY = Set.of(FindingType.StuckRuntimeInit, FindingType.UnkillableTask);

    static TrackedFinding tracked(Finding f) {
        return new TrackedFinding(f.type() + "/" + f.pid(), f, T);
    }

    @Test
    void phaseFollowsThePolicysUnhealthyTypes() {
        PodIndex none = new PodIndex(List.of());
        assertEquals("Healthy", ProbeReport.build(List.of(), none, HOST, UNHEALTHY, 50, 3, 10).phase());
        var degraded = ProbeReport.build(List.of(tracked(finding(FindingType.HungTask, 1, CID))), none, HOST, UNHEALTHY,
                50, 3, 10);
        assertEquals("Degraded", degraded.phase());
        assertEquals(1, degraded.summary().stuckKill());
        var unhealthy = ProbeReport.build(List.of(tracked(finding(FindingType.StuckRuntimeInit, 2, CID)),
                tracked(finding(FindingType.HungTask, 1, CID))), none, HOST, UNHEALTHY, 50, 3, 10);
        assertEquals("Unhealthy", unhealthy.phase());
        assertEquals(1, unhealthy.summary().stuckExec());
        assertEquals("FuseRequest", unhealthy.summary().topCause());
    }

    @Test
    void findingsAreCappedButCountedInFull() {
        List<TrackedFinding> many = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            many.add(tracked(finding(FindingType.HungTask, 100 + i, CID)));
        }
        var r = ProbeReport.build(many, new PodIndex(List.of()), HOST, UNHEALTHY, 50, 3, 10);
        assertEquals(50, r.findings().size());
        assertTrue(r.truncated());
        assertEquals(60, r.summary().byType().get("HungTask"));
    }

    @Test
    void fingerprintIgnoresAgesAndDurationsButNotEvidence() {
        Finding a = finding(FindingType.HungTask, 1, CID);
        Finding older = new Finding(a.type(), a.cause(), a.severity(), a.scope(), "stuck for even longer", a.pid(),
                a.tid(), a.comm(), a.state(), a.wchan(), a.kernelStack(), a.signalsPending(), 999L, a.containerId(),
                a.podUid(), a.cgroup(), a.mount());
        PodIndex none = new PodIndex(List.of());
        String f1 = ProbeReport.build(List.of(tracked(a)), none, HOST, UNHEALTHY, 50, 3, 10).fingerprint();
        String f2 = ProbeReport.build(List.of(tracked(older)), none, HOST, UNHEALTHY, 50, 99, 12).fingerprint();
        assertEquals(f1, f2);
        Finding killed = new Finding(a.type(), a.cause(), a.severity(), a.scope(), a.message(), a.pid(), a.tid(),
                a.comm(), a.state(), a.wchan(), a.kernelStack(), List.of("SIGKILL"), a.ageSeconds(), a.containerId(),
                a.podUid(), a.cgroup(), a.mount());
        assertNotEquals(f1, ProbeReport.build(List.of(tracked(killed)), none, HOST, UNHEALTHY, 50, 3, 10).fingerprint());
        assertFalse(ProbeReport.build(List.of(tracked(a)), none, HOST, UNHEALTHY, 50, 3, 10).criticalIds().isEmpty());
    }
}
