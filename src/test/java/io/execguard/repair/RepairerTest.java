package io.execguard.repair;

import static io.execguard.repair.RepairPlannerTest.ALL;
import static io.execguard.repair.RepairPlannerTest.FUSE_52;
import static io.execguard.repair.RepairPlannerTest.NOW;
import static io.execguard.repair.RepairPlannerTest.findings;
import static io.execguard.repair.RepairPlannerTest.host;
import static io.execguard.repair.RepairPlannerTest.leaked;
import static io.execguard.repair.RepairPlannerTest.shell;
import static io.execguard.repair.RepairPlannerTest.stuck;
import static io.execguard.repair.RepairPlannerTest.task;
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
import io.execguard.host.MountEntry;

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
        public boolean signal(int pid, long startTimeTicks, String signal) throws IOException {
            calls.add("SIG" + signal + " " + pid + "@" + startTimeTicks);
            if (failure != null) {
                throw failure;
            }
            return true;
        }
    }

    static final RepairPolicy OFF = new RepairPolicy(false, false, Duration.ofDays(1), true, Duration.ofSeconds(10));
    static final RepairPolicy DRY = new RepairPolicy(true, true, Duration.ofHours(1), true, Duration.ofSeconds(10));
    private final FakeHost fake = new FakeHost();
    private final Repairer repairer = new Repairer(fake, "node-a");
    /** One unkillable task on fuse connection 52, which has a request waiting. */
    private final Map<String, Finding> stuckFindings = findings("u/1",
            stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, FUSE_52));
    private final HostSnapshot stuckHost = host(List.of(new FuseConnection(52, 1)), task(100));
    /** A leaked shell idle for 3 h. */
    private final Map<String, Finding> leakFindings = findings("l/300", leaked(300));
    private final HostSnapshot leakHost = host(List.of(), shell(300, 4242, 3 * 3600));

    private List<Repair> run(Map<String, Finding> f, HostSnapshot s, RepairPolicy p, long secondsAfterNow) {
        return repairer.run(f, s, p, NOW.plusSeconds(secondsAfterNow));
    }

    @Test
    void abortsOnTheSecondScanThatSeesTheConnectionBusyAndOnlyOnce() {
        assertEquals(List.of(), run(stuckFindings, stuckHost, ALL, 0), "the first scan has no previous one");
        List<Repair> second = run(stuckFindings, stuckHost, ALL, 10);
        assertEquals(1, second.size());
        assertEquals(Repair.Result.Done, second.get(0).result());
        assertEquals(List.of("abort 52"), fake.calls);
        // the next scan may still see the same findings for a moment: not repeated
        assertEquals(List.of(), run(stuckFindings, stuckHost, ALL, 20));
        assertEquals(List.of("abort 52"), fake.calls);
        assertEquals(second, repairer.history());
    }

    @Test
    void aConnectionNumberReusedAfterTheOldOneWentAwayIsANewSubject() {
        run(stuckFindings, stuckHost, ALL, 0);
        run(stuckFindings, stuckHost, ALL, 10);
        HostSnapshot gone = host(List.of(), List.of(RepairPlannerTest.ROOT), task(100));
        run(Map.of(), gone, ALL, 20); // unmounted: connection 52 is no longer in fusectl
        run(stuckFindings, stuckHost, ALL, 30);
        assertEquals(1, run(stuckFindings, stuckHost, ALL, 40).size(), "a new mount on connection 52, stuck again");
        assertEquals(List.of("abort 52", "abort 52"), fake.calls);
    }

    @Test
    void dryRunRecordsWhatWouldBeDoneOnceAndSwitchingItOffStartsFresh() {
        run(stuckFindings, stuckHost, DRY, 0);
        List<Repair> r = run(stuckFindings, stuckHost, DRY, 10);
        assertEquals(Repair.Result.DryRun, r.get(0).result());
        assertEquals(List.of(), run(stuckFindings, stuckHost, DRY, 20), "reported once");
        assertEquals(List.of(), run(stuckFindings, stuckHost, DRY, 7200), "still once, hours later");
        assertEquals(List.of(), fake.calls);
        assertEquals(Repair.Result.Done, run(stuckFindings, stuckHost, ALL, 7210).get(0).result(),
                "dry run off: the abort the dry run only pretended is done");
        assertEquals(List.of("abort 52"), fake.calls);
    }

    @Test
    void aPretendedHangupNeverTurnsIntoARealKill() {
        assertEquals(RepairKind.HangUpLeakedSession, run(leakFindings, leakHost, DRY, 0).get(0).action().kind());
        assertEquals(RepairKind.KillLeakedSession, run(leakFindings, leakHost, DRY, 10).get(0).action().kind(),
                "the dry run shows the whole sequence");
        List<Repair> real = run(leakFindings, leakHost, ALL, 20);
        assertEquals(RepairKind.HangUpLeakedSession, real.get(0).action().kind());
        assertEquals(List.of("SIGHUP 300@4242"), fake.calls);
    }

    @Test
    void aFailedHangupIsRetriedWithBackoffAndNeverFollowedByAKill() {
        fake.failure = new IOException("SIGHUP to 300 failed: errno 1 (EPERM: the probe needs CAP_KILL)");
        Repair r = run(leakFindings, leakHost, ALL, 0).get(0);
        assertEquals(Repair.Result.Failed, r.result());
        assertTrue(r.detail().contains("CAP_KILL"), r.detail());
        assertEquals(List.of(), run(leakFindings, leakHost, ALL, 30), "no retry within a minute, and no SIGKILL");
        assertEquals(RepairKind.HangUpLeakedSession, run(leakFindings, leakHost, ALL, 60).get(0).action().kind());
        assertEquals(List.of(), run(leakFindings, leakHost, ALL, 150), "second failure: two minutes");
        fake.failure = null;
        assertEquals(Repair.Result.Done, run(leakFindings, leakHost, ALL, 180).get(0).result());
        assertEquals(List.of("SIGHUP 300@4242", "SIGHUP 300@4242", "SIGHUP 300@4242"), fake.calls);
        assertEquals(List.of(), run(leakFindings, leakHost, ALL, 185));
        assertEquals(RepairKind.KillLeakedSession, run(leakFindings, leakHost, ALL, 190).get(0).action().kind(),
                "SIGKILL only the grace after the SIGHUP that was sent");
    }

    @Test
    void nothingHappensWithRepairsOff() {
        run(stuckFindings, stuckHost, OFF, 0);
        assertEquals(List.of(), run(stuckFindings, stuckHost, OFF, 10));
        assertEquals(List.of(), run(leakFindings, leakHost, OFF, 20));
        assertEquals(List.of(), fake.calls);
    }

    @Test
    void historyKeepsTheNewestTwenty() {
        for (int i = 0; i < 25; i++) {
            int conn = 100 + i;
            var f = findings("u/" + i, stuck(FindingType.UnkillableTask, Cause.FuseRequest, 100, new MountRef("fuse",
                    "x", "/m", conn)));
            HostSnapshot s = host(List.of(new FuseConnection(conn, 1)), List.of(new MountEntry(0, conn, "/", "/m",
                    "fuse", "x", 500 + i)), task(100, new io.execguard.host.OpenFiles("/", "/", List.of(500 + i),
                    List.of(), true)));
            run(f, s, ALL, 2L * i);
            run(f, s, ALL, 2L * i + 1);
        }
        List<Repair> h = repairer.history();
        assertEquals(Repairer.HISTORY, h.size());
        assertEquals(124, h.get(0).action().fuseConnection(), "newest first");
        assertEquals(105, h.get(19).action().fuseConnection());
    }

}
