package io.execguard.repair;

import static io.execguard.repair.RepairPlannerTest.ALL;
import static io.execguard.repair.RepairPlannerTest.FUSE_52;
import static io.execguard.repair.RepairPlannerTest.NOW;
import static io.execguard.repair.RepairPlannerTest.findings;
import static io.execguard.repair.RepairPlannerTest.host;
import static io.execguard.repair.RepairPlannerTest.stuck;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.execguard.detect.Cause;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.MountRef;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;

class RepairerTest {

    /** Records what would have been done to the host; can be told to fail. */
    static final class FakeHost implements HostRepairs {
        final List<String> calls = new ArrayList<>();
        IOException failure;

        @Override
        public void abortFuseConnection(int connection) throws IOException {
            calls.add("abort " + connection);
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public boolean signal(int pid, long startTimeTicks, String signal) {
            calls.add("SIG" + signal + " " + pid + "@" + startTimeTicks);
            return true;
        }
    }

    private final FakeHost fake = new FakeHost();
    private final Repairer repairer = new Repairer(fake, "node-a");
    /** One unkillable task on fuse connection 52, which has a request waiting. */
    private final Map<String, Finding> stuckFindings = findings("u/1",
            stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52));
    private final HostSnapshot stuckHost = host(List.of(new FuseConnection(52, 1)));

    @Test
    void doesEachRepairOnceAndKeepsItInTheHistory() {
        List<Repair> first = repairer.run(stuckFindings, stuckHost, ALL, NOW);
        assertEquals(1, first.size());
        assertEquals(Repair.Result.Done, first.get(0).result());
        assertEquals(List.of("abort 52"), fake.calls);
        // the next scan still sees the same findings (they clear once the tasks exit): not repeated
        assertEquals(List.of(), repairer.run(stuckFindings, stuckHost, ALL, NOW.plusSeconds(10)));
        assertEquals(List.of("abort 52"), fake.calls);
        assertEquals(first, repairer.history());
    }

    @Test
    void dryRunRecordsWhatWouldBeDoneAndTouchesNothing() {
        RepairPolicy dry = new RepairPolicy(true, true, Duration.ofHours(1), true, Duration.ofSeconds(10));
        List<Repair> r = repairer.run(stuckFindings, stuckHost, dry, NOW);
        assertEquals(Repair.Result.DryRun, r.get(0).result());
        assertEquals(List.of(), fake.calls);
        assertEquals(List.of(), repairer.run(stuckFindings, stuckHost, dry, NOW.plusSeconds(10)), "reported once");
    }

    @Test
    void aFailedRepairIsReportedWithItsErrorAndRetriedAMinuteLater() {
        fake.failure = new IOException("cannot write /host/sys/fs/fuse/connections/52/abort: Read-only file system");
        Repair r = repairer.run(stuckFindings, stuckHost, ALL, NOW).get(0);
        assertEquals(Repair.Result.Failed, r.result());
        assertTrue(r.detail().contains("Read-only"), r.detail());
        assertEquals(List.of(), repairer.run(stuckFindings, stuckHost, ALL, NOW.plusSeconds(30)));
        fake.failure = null;
        assertEquals(Repair.Result.Done, repairer.run(stuckFindings, stuckHost, ALL, NOW.plusSeconds(61)).get(0)
                .result());
        assertEquals(List.of("abort 52", "abort 52"), fake.calls);
    }

    @Test
    void nothingHappensWithRepairsOff() {
        assertEquals(List.of(), repairer.run(stuckFindings, stuckHost, RepairPolicy.off(), NOW));
        assertEquals(List.of(), fake.calls);
    }

    @Test
    void historyKeepsTheNewestTwenty() {
        for (int i = 0; i < 25; i++) {
            var f = findings("u/" + i, stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100 + i,
                    new MountRef("fuse", "x", "/m" + i, 100 + i)));
            repairer.run(f, host(List.of(new FuseConnection(100 + i, 1))), ALL, NOW.plusSeconds(i));
        }
        List<Repair> h = repairer.history();
        assertEquals(Repairer.HISTORY, h.size());
        assertEquals(124, h.get(0).action().fuseConnection(), "newest first");
        assertEquals(105, h.get(19).action().fuseConnection());
    }
}
