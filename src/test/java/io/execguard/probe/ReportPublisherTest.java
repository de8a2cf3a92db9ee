package io.execguard.probe;

import static io.execguard.probe.ProbeTestData.CID;
import static io.execguard.probe.ProbeTestData.HOST;
import static io.execguard.probe.ProbeTestData.finding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.execguard.detect.FindingType;
import io.execguard.repair.Repair;

class ReportPublisherTest {

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-11-23T10:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Records writes and events; can be switched to fail like an unreachable API server. */
    static final class FakeWriter implements StatusWriter {
        final List<ProbeReport> writes = new ArrayList<>();
        final List<String> events = new ArrayList<>();
        boolean down;

        @Override
        public void write(ProbeReport report, Instant probeTime) {
            if (down) {
                throw new IllegalStateException("connection refused");
            }
            writes.add(report);
        }

        @Override
        public void event(ProbeReport.Item item, boolean appeared, Instant when) {
            events.add((appeared ? "appeared " : "cleared ") + item.tracked().id());
        }

        @Override
        public void repairEvent(Repair repair) {
            events.add("repair " + repair.seq() + " " + repair.action().key() + " " + repair.result());
        }
    }

    private final ManualClock clock = new ManualClock();
    private final FakeWriter writer = new FakeWriter();
    private final ReportPublisher publisher = new ReportPublisher(writer, Duration.ofSeconds(60), "node-a",
            new Metrics(), clock);

    private static ProbeReport report(FindingType... types) {
        List<TrackedFinding> tracked = new ArrayList<>();
        int pid = 100;
        for (FindingType t : types) {
            tracked.add(new TrackedFinding(t + "/" + pid, finding(t, pid++, CID), Instant.EPOCH));
        }
        return ProbeReport.build(tracked, new PodIndex(List.of()), HOST, Set.of(FindingType.StuckRuntimeInit), 50, 5, 100);
    }

    private void scan(ProbeReport r) {
        publisher.accept(r);
        publisher.publishOnce();
        clock.now = clock.now.plusSeconds(10);
    }

    @Test
    void unchangedScansCostOneWritePerHeartbeat() {
        for (int i = 0; i < 20; i++) {
            scan(report());
        }
        // 20 scans 10 s apart span 200 s: the first write, then heartbeats at 60, 120, 180 s
        assertEquals(4, writer.writes.size());
    }

    @Test
    void aNewFindingAClearedFindingAndAPhaseChangeEachCostOneWrite() {
        scan(report());
        scan(report(FindingType.HungTask));                        // new finding, Degraded
        scan(report(FindingType.HungTask));
        scan(report(FindingType.HungTask, FindingType.StuckRuntimeInit)); // phase change to Unhealthy
        scan(report(FindingType.HungTask, FindingType.StuckRuntimeInit));
        scan(report(FindingType.HungTask));                        // cleared
        assertEquals(4, writer.writes.size());
        assertEquals(List.of("Healthy", "Degraded", "Unhealthy", "Degraded"),
                writer.writes.stream().map(ProbeReport::phase).toList());
        assertEquals(List.of("appeared HungTask/100", "appeared StuckRuntimeInit/101", "cleared StuckRuntimeInit/101"),
                writer.events);
    }

    @Test
    void apiDownBacksOffThenPublishesTheLatestTruth() {
        scan(report());
        writer.down = true;
        publisher.accept(report(FindingType.StuckRuntimeInit));
        assertFalse(publisher.publishOnce());
        clock.now = clock.now.plusMillis(500);
        assertFalse(publisher.publishOnce(), "still backing off");
        clock.now = clock.now.plusSeconds(1);
        assertFalse(publisher.publishOnce(), "second failure doubles the backoff");
        writer.down = false;
        publisher.accept(report(FindingType.HungTask, FindingType.StuckRuntimeInit));
        clock.now = clock.now.plusSeconds(2);
        assertTrue(publisher.publishOnce());
        assertEquals(2, writer.writes.size());
        assertEquals(2, writer.writes.get(1).findings().size(), "the latest report, not the one that failed");
    }
}
