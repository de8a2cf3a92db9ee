package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The figures are the lab VM's (2 vCPUs, 9.7 h up): CPU 1's task clock 3,180 ms behind CPU 0's. A task that
 * went to sleep on CPU 0 at 34,327,000 ms of CPU 0's clock, read 2.5 s later.
 */
class CpuClocksTest {

    private static final double CPU0_NOW = 34_329_500;
    private static final double CPU1_NOW = CPU0_NOW - 3_180;
    private static final double VICTIM_RAN = 34_327_000;

    /** Tasks' exec_start by tid, and the tids asked for. */
    private final Map<Integer, Double> execStart = new HashMap<>();
    private final List<Integer> asked = new ArrayList<>();
    /** The monotonic clock, ns. */
    private long mono = 5_000_000_000L;
    private final CpuClocks clocks = new CpuClocks((cpu, pid, tid) -> {
        asked.add(tid);
        return execStart.getOrDefault(tid, Double.NaN);
    }, CpuClocks.Pin.NONE, () -> mono);

    @Test
    void theReadersOwnClockOnTheTasksCpuIsExact() {
        clocks.ranOn(0, CPU0_NOW);
        assertEquals(2.5, clocks.blockedSeconds(0, VICTIM_RAN), 1e-9);
    }

    @Test
    void aRunnableTaskOnTheTasksCpuGivesThatCpusNowWhenTheReaderRanElsewhere() {
        clocks.ranOn(1, CPU1_NOW);
        execStart.put(100, CPU0_NOW - 3); // running on CPU 0, its clock updated at the last tick
        execStart.put(101, CPU0_NOW - 40); // queued there, preempted 40 ms ago
        clocks.runnable(0, 100, 100);
        clocks.runnable(0, 7, 101);
        double blocked = clocks.blockedSeconds(0, VICTIM_RAN);
        assertEquals(2.497, blocked, 1e-9, "the latest of the CPU's runnable tasks, never more than the truth");
        // compared with CPU 1's clock the task would have looked blocked for none of that: 2.5 - 3.18 < 0
        assertTrue(CPU1_NOW < VICTIM_RAN);
    }

    @Test
    void theReadersClockOnAnotherCpuIsTheFallbackAndOnlyWhenItIsNotBeforeTheTasksRun() {
        // CPU 0 idle throughout: no runnable task there, the reader ran only on CPU 1
        clocks.ranOn(1, CPU1_NOW);
        assertTrue(Double.isNaN(clocks.blockedSeconds(0, VICTIM_RAN)),
                "CPU 1's clock is before the task's run on CPU 0: unknown (the caller uses uptime, capped by age)");
        CpuClocks ahead = new CpuClocks((cpu, pid, tid) -> Double.NaN, CpuClocks.Pin.NONE, () -> mono);
        ahead.ranOn(0, CPU0_NOW);
        assertEquals(2.5 + 3.18, ahead.blockedSeconds(1, VICTIM_RAN - 3_180), 1e-9,
                "the fallback overstates by the drift: that is why the task's own CPU comes first");
    }

    @Test
    void aRunnableTaskThatRanBeforeTheBlockedOneSaysNothingOfNow() {
        clocks.ranOn(1, CPU1_NOW);
        execStart.put(100, VICTIM_RAN - 500);
        clocks.runnable(0, 100, 100);
        assertTrue(Double.isNaN(clocks.blockedSeconds(0, VICTIM_RAN)));
    }

    @Test
    void tasksThatMovedOrVanishedAreLeftOutAndEachCpusTasksAreReadOnce() {
        clocks.ranOn(1, CPU1_NOW);
        // 200 moved to another CPU (NaN from the reader), 201 was zeroed by a migration, 202 is good
        execStart.put(201, 0.0);
        execStart.put(202, CPU0_NOW - 10);
        clocks.runnable(0, 200, 200);
        clocks.runnable(0, 201, 201);
        clocks.runnable(0, 202, 202);
        assertEquals(2.49, clocks.blockedSeconds(0, VICTIM_RAN), 1e-9);
        assertEquals(2.49, clocks.blockedSeconds(0, VICTIM_RAN), 1e-9);
        assertEquals(List.of(200, 201, 202), asked, "read once, on the first question");
    }

    @Test
    void atMostAFewRunnableTasksPerCpuAreKept() {
        clocks.ranOn(1, CPU1_NOW);
        for (int tid = 1; tid <= 50; tid++) {
            clocks.runnable(0, tid, tid);
        }
        clocks.nowOn(0);
        assertEquals(CpuClocks.RUNNABLE_PER_CPU, asked.size());
    }

    @Test
    void aTreeWithoutTheReadersOwnClockIsAFixtureAndItsNowIsItsUptime() {
        execStart.put(100, CPU0_NOW);
        clocks.runnable(0, 100, 100);
        assertTrue(Double.isNaN(clocks.blockedSeconds(0, VICTIM_RAN)));
        assertTrue(asked.isEmpty(), "no task of a fixture tree is read for a clock");
    }

    @Test
    void aCpuNotSeenInThisReadTakesTheOffsetAnEarlierReadSaw() {
        // read 1: CPU 0 busy (a runnable task there), the reader on CPU 1
        clocks.ranOn(1, CPU1_NOW - 60_000);
        execStart.put(100, CPU0_NOW - 60_000);
        clocks.runnable(0, 100, 100);
        clocks.nowOn(0);
        // 60 s later, read 2: CPU 0 idle since (no steal accrues on an idle vCPU), the reader on CPU 1 again
        mono += 60_000_000_000L;
        clocks.newRead();
        clocks.ranOn(1, CPU1_NOW);
        assertEquals(2.5, clocks.blockedSeconds(0, VICTIM_RAN), 1e-6);
        assertEquals(List.of(100), asked, "read 2 had no runnable task of CPU 0 to read");
        // an offset older than the TTL is not used
        mono += CpuClocks.OFFSET_TTL_NANOS + 1;
        clocks.newRead();
        clocks.ranOn(1, CPU1_NOW + 600_000);
        assertTrue(Double.isNaN(clocks.nowOn(0)));
    }

    @Test
    void aNewReadForgetsTheLastReadsRunnableTasksAndOwnClock() {
        clocks.ranOn(0, CPU0_NOW);
        clocks.runnable(1, 100, 100);
        clocks.newRead();
        assertTrue(Double.isNaN(clocks.own()));
        assertTrue(Double.isNaN(clocks.blockedSeconds(0, VICTIM_RAN)), "not live until the reader saw its own clock");
        clocks.ranOn(1, CPU1_NOW);
        execStart.put(100, CPU1_NOW);
        clocks.nowOn(1);
        assertTrue(asked.isEmpty(), "the runnable tasks of the last read are not read");
    }

    @Test
    void aSampleTakenBeforeASlowReadStillGivesThePresent() {
        clocks.ranOn(0, CPU0_NOW - 1_000); // sampled, then a read under its 1 s deadline
        mono += 1_000_000_000L;
        assertEquals(2.5, clocks.blockedSeconds(0, VICTIM_RAN), 1e-6, "the sample plus the monotonic time since");
        assertEquals(CPU0_NOW, clocks.own(), 1e-6);
    }

    @Test
    void aTaskMovedAndNotRunSinceIsRunnableNotBlocked() {
        clocks.ranOn(0, CPU0_NOW);
        assertEquals(0.0, clocks.blockedSeconds(1, 0.0), "exec_start 0: the kernel zeroed it on migration");
        CpuClocks fixture = new CpuClocks((cpu, pid, tid) -> Double.NaN, CpuClocks.Pin.NONE, () -> mono);
        assertTrue(Double.isNaN(fixture.blockedSeconds(1, 0.0)), "a fixture tree keeps the uptime rule");
    }

    @Test
    void anOlderSampleThatSaysALaterClockIsKeptOverAStaleRunnableTask() {
        clocks.ranOn(0, CPU0_NOW); // the reader itself, on CPU 0
        mono += 100_000_000L;
        execStart.put(100, CPU0_NOW - 2_000); // a runnable task there that last ran 2 s ago
        clocks.runnable(0, 100, 100);
        assertEquals(2.6, clocks.blockedSeconds(0, VICTIM_RAN), 1e-6, "the reader's sample + 0.1 s, not the stale one");
    }

    @Test
    void unknownCpusAndClocksAreIgnored() {
        clocks.ranOn(-1, CPU0_NOW);
        clocks.ranOn(0, Double.NaN);
        clocks.runnable(-1, 1, 1);
        assertTrue(Double.isNaN(clocks.own()));
        clocks.ranOn(1, CPU1_NOW);
        assertTrue(Double.isNaN(clocks.nowOn(-1)));
        assertEquals(CPU1_NOW, clocks.own());
    }
    /** Clocks whose pin samples {@code cpuNow} (CPU -> its clock now) for a CPU listed there, and fails elsewhere. */
    private CpuClocks pinning(Map<Integer, Double> cpuNow, List<Integer> pinned) {
        CpuClocks[] self = new CpuClocks[1];
        self[0] = new CpuClocks((cpu, pid, tid) -> {
            asked.add(tid);
            return execStart.getOrDefault(tid, Double.NaN);
        }, cpu -> {
            pinned.add(cpu);
            Double now = cpuNow.get(cpu);
            if (now == null) {
                return false;
            }
            self[0].ranOn(cpu, now);
            return true;
        }, () -> mono);
        return self[0];
    }

    @Test
    void theReaderPinnedToTheTasksCpuReadsItsClockThereBeforeAnyOtherSource() {
        // CI's case: CPU 1's clock 2.6 s behind CPU 0's, the task blocked 3.5 s on CPU 0, the scan ran on CPU 1 only
        double cpu1Now = CPU0_NOW + 1_000 - 2_600;
        List<Integer> pinned = new ArrayList<>();
        CpuClocks c = pinning(Map.of(0, CPU0_NOW + 1_000), pinned);
        c.ranOn(1, cpu1Now);
        execStart.put(100, VICTIM_RAN - 100); // a runnable task there that last ran before the victim: not needed
        c.runnable(0, 100, 100);
        assertEquals(3.5, c.blockedSeconds(0, VICTIM_RAN), 1e-9);
        assertEquals(List.of(0), pinned);
        assertTrue(asked.isEmpty(), "an exact sample makes the runnable tasks' reads needless");
        CpuClocks unpinned = new CpuClocks((cpu, pid, tid) -> Double.NaN, CpuClocks.Pin.NONE, () -> mono);
        unpinned.ranOn(1, cpu1Now);
        assertEquals(0.9, unpinned.blockedSeconds(0, VICTIM_RAN), 1e-9,
                "without the pin: CPU 1's clock, 2.6 s short, under a 1 s threshold");
    }

    @Test
    void aCpuThePinCannotReachFallsBackToItsRunnableTasksAndIsTriedOncePerRead() {
        List<Integer> pinned = new ArrayList<>();
        CpuClocks c = pinning(Map.of(), pinned); // every pin refused (outside the cpuset)
        c.ranOn(1, CPU1_NOW);
        execStart.put(100, CPU0_NOW - 3);
        c.runnable(0, 100, 100);
        assertEquals(2.497, c.blockedSeconds(0, VICTIM_RAN), 1e-9);
        c.blockedSeconds(0, VICTIM_RAN);
        assertEquals(List.of(0), pinned, "tried once in a read");
        c.newRead();
        c.ranOn(1, CPU1_NOW);
        c.nowOn(0);
        assertEquals(List.of(0, 0), pinned, "and again in the next");
    }

    @Test
    void aFixtureTreeIsNeverPinnedFor() {
        List<Integer> pinned = new ArrayList<>();
        CpuClocks c = pinning(Map.of(0, CPU0_NOW), pinned);
        assertTrue(Double.isNaN(c.blockedSeconds(0, VICTIM_RAN)));
        assertTrue(pinned.isEmpty());
    }
}
