package io.execguard.probe;

import static io.execguard.probe.ProbeTestData.CID;
import static io.execguard.probe.ProbeTestData.dThread;
import static io.execguard.probe.ProbeTestData.finding;
import static io.execguard.probe.ProbeTestData.process;
import static io.execguard.probe.ProbeTestData.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.execguard.detect.FindingType;
import io.execguard.detect.PidsLimitDetector;
import io.execguard.detect.Thresholds;
import io.execguard.host.CgroupRef;
import io.execguard.host.HostSnapshot;
import io.execguard.host.PidsCgroup;

class FindingTrackerTest {

    private final Instant t0 = Instant.parse("2026-11-23T10:00:00Z");

    @Test
    void hungTaskIsReportedOnceItsCountersStayUnchangedForTheThreshold() {
        FindingTracker tracker = new FindingTracker();
        Thresholds th = Thresholds.DEFAULTS.with("HungTask", 120);
        var f = List.of(finding(FindingType.HungTask, 42, CID));
        // first seen having run 5 s ago
        assertTrue(tracker.update(f, snapshot(process(42, 1000, dThread(42, 7, 5))), t0, th).isEmpty());
        assertTrue(tracker.update(f, snapshot(process(42, 1000, dThread(42, 7, 65))), t0.plusSeconds(60), th).isEmpty());
        var due = tracker.update(f, snapshot(process(42, 1000, dThread(42, 7, 125))), t0.plusSeconds(120), th);
        assertEquals(1, due.size());
        assertEquals("HungTask/e318f67bce5c/42@1000", due.get(0).id());
        assertEquals(t0.plusSeconds(120), due.get(0).firstSeen());
        // firstSeen is kept while it persists
        var later = tracker.update(f, snapshot(process(42, 1000, dThread(42, 7, 185))), t0.plusSeconds(180), th);
        assertEquals(t0.plusSeconds(120), later.get(0).firstSeen());
    }

    @Test
    void contextSwitchesRestartTheClock() {
        FindingTracker tracker = new FindingTracker();
        Thresholds th = Thresholds.DEFAULTS.with("HungTask", 120);
        var f = List.of(finding(FindingType.HungTask, 42, CID));
        tracker.update(f, snapshot(process(42, 1000, dThread(42, 7, 100))), t0, th);
        // it ran in between: counters moved, so the task is blocked only since now
        assertTrue(tracker.update(f, snapshot(process(42, 1000, dThread(42, 9, 1))), t0.plusSeconds(30), th).isEmpty());
        assertTrue(tracker.update(f, snapshot(process(42, 1000, dThread(42, 9, 61))), t0.plusSeconds(90), th).isEmpty());
        assertEquals(1, tracker.update(f, snapshot(process(42, 1000, dThread(42, 9, 121))), t0.plusSeconds(150), th).size());
    }

    @Test
    void aReusedPidIsANewFindingAndClearedOnesAreForgotten() {
        FindingTracker tracker = new FindingTracker();
        Thresholds th = Thresholds.DEFAULTS;
        var f = List.of(finding(FindingType.StuckRuntimeInit, 42, CID));
        var first = tracker.update(f, snapshot(process(42, 1000, dThread(42, 7, 40))), t0, th);
        assertEquals(t0, first.get(0).firstSeen());
        assertTrue(tracker.update(List.of(), snapshot(), t0.plusSeconds(10), th).isEmpty());
        var again = tracker.update(f, snapshot(process(42, 2000, dThread(42, 7, 40))), t0.plusSeconds(20), th);
        assertEquals("StuckRuntimeInit/e318f67bce5c/42@2000", again.get(0).id());
        assertEquals(t0.plusSeconds(20), again.get(0).firstSeen());
    }

    @Test
    void oldRefusedForksStopBeingReportedOnceTheirCounterStandsStillButNewOnesComeBack() {
        FindingTracker tracker = new FindingTracker();
        Thresholds th = Thresholds.DEFAULTS;
        PidsLimitDetector detector = new PidsLimitDetector(th);
        String path = "/docker/" + CID;
        CgroupRef ref = CgroupRef.ofPath(path);
        java.util.function.BiFunction<PidsCgroup, Instant, List<TrackedFinding>> scan = (c, now) -> {
            HostSnapshot s = new HostSnapshot(ProbeTestData.HOST, List.of(), List.of(c), Map.of(), List.of(), 10,
                    List.of());
            return tracker.update(detector.detect(s, List.of()), s, now, th);
        };
        // at the limit: reported whatever the counter does
        assertEquals(1, scan.apply(new PidsCgroup(path, ref, 100, 100, 3), t0).size());
        // limit raised, 3 refusals in the past: still reported for the quiet window...
        assertEquals(1, scan.apply(new PidsCgroup(path, ref, 10, 1000, 3), t0.plusSeconds(60)).size());
        assertEquals(1, scan.apply(new PidsCgroup(path, ref, 10, 1000, 3),
                t0.plus(FindingTracker.REFUSALS_QUIET).minusSeconds(1)).size());
        // ...then dropped while the counter stands still
        assertEquals(List.of(), scan.apply(new PidsCgroup(path, ref, 10, 1000, 3), t0.plus(FindingTracker.REFUSALS_QUIET)));
        assertEquals(List.of(), scan.apply(new PidsCgroup(path, ref, 10, 1000, 3), t0.plusSeconds(3600)));
        // a new refusal brings it back at once
        var again = scan.apply(new PidsCgroup(path, ref, 10, 1000, 4), t0.plusSeconds(3610));
        assertEquals(1, again.size());
        assertTrue(again.get(0).finding().message().contains("4 forks refused"), again.get(0).finding().message());
    }
}
