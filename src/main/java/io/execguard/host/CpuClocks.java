package io.execguard.host;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * "Now" on each CPU's scheduler task clock: the clock a task's {@code se.exec_start} (in {@code /proc/TID/sched})
 * is written in.
 *
 * <p>{@code se.exec_start} is {@code rq_clock_task} of the CPU the task last ran on ({@code stat} field 39).
 * That clock leaves out the CPU's own interrupt time and, on a virtual machine, the time the hypervisor stole
 * from that vCPU, so the CPUs' clocks drift apart: on the lab VM CPU 1's ran 3.1–5.4 s behind CPU 0's after
 * ~10 hours up. Compared with another CPU's clock, a task blocked 2.5 s reads as blocked 0 s, or 5.7 s. So a
 * task's last run is compared with "now" on its own CPU, known from a sample of that CPU's clock:
 * <ol>
 *   <li>the reading thread's own {@code se.exec_start}, taken while it ran on that CPU ({@link #ranOn}); it is
 *       running as it reads, so this is the CPU's clock at that moment. The reader runs where the scheduler puts
 *       it, so the first time a read asks for a CPU it has not run on, it is held on that CPU for one sample
 *       ({@link Pin}; Java 22+, {@code sched_setaffinity} on the reading thread — a one-shot {@code scan} that ran
 *       only on CPU 1 otherwise sees CPU 0 through the runnable tasks or not at all);</li>
 *   <li>the latest {@code se.exec_start} of the tasks the cheap pass saw runnable there ({@link #runnable}): one
 *       runs there, the others ran moments ago. The kernel zeroes {@code exec_start} when it moves a task to
 *       another CPU ({@code migrate_task_rq_fair}), so a value above zero read while the task was on that CPU
 *       is that CPU's own ({@link ExecStart} checks that it was).</li>
 * </ol>
 * A sample is kept as the CPU's offset from the monotonic clock and "now" is that offset plus the monotonic clock:
 * a sample taken before a slow read still gives the present, and one from an earlier read (up to
 * {@link #OFFSET_TTL_NANOS}) stands in for a CPU this read has no sample of. A CPU's task clock falls behind the
 * monotonic one only by the time stolen from it or spent in its interrupts — a few percent of a busy vCPU's time,
 * hardly any of an idle one's — so "now" overstates by at most that share of the sample's age; samples of runnable
 * tasks understate by however long ago they last ran. This keeps a long-lived probe near the truth for tasks stuck
 * on a CPU it may not run on, such as a Guaranteed pod's exclusive CPU.
 *
 * <p>Not thread-safe: one per {@link HostReader}, used on the reading thread; {@link #newRead} starts a read.
 */
final class CpuClocks {

    /**
     * Reads {@code se.exec_start} (ms) of a task, NaN when unknown or when the task may not have been on
     * {@code cpu} as it was read (it can have moved since the cheap pass saw it there).
     */
    interface ExecStart {
        double on(int cpu, int pid, int tid);
    }

    /**
     * Takes a sample of the reader's own clock on {@code cpu} ({@link #ranOn}) with the reading thread held there
     * for it; false when it cannot be held there (no way to pin in this runtime, a CPU outside its cpuset).
     */
    interface Pin {
        boolean sample(int cpu);

        /** No pinning: each CPU's clock is known only where the reader happens to run or from its runnable tasks. */
        Pin NONE = cpu -> false;
    }

    /** Runnable tasks remembered per CPU: enough that one of them is the running one or ran moments ago. */
    static final int RUNNABLE_PER_CPU = 4;
    /** How long a CPU's offset from the monotonic clock, as last seen, stands in for a sample of its own. */
    static final long OFFSET_TTL_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(10);
    /** A sample this much newer than the kept one replaces it even when it says an earlier clock. */
    private static final long REPLACE_AFTER_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private final ExecStart execStart;
    private final Pin pin;
    private final LongSupplier monotonicNanos;
    /** The CPUs this read has tried to pin the reader to. */
    private final java.util.BitSet pinTried = new java.util.BitSet();
    private final Map<Integer, long[]> runnable = new HashMap<>();
    /** Per CPU: its task clock minus the monotonic clock (ms), and when that was seen (monotonic ns). */
    private final Map<Integer, double[]> offsets = new HashMap<>();
    /** Whether this read has seen the reader's own clock (a live procfs), and the CPU it last saw it on. */
    private boolean live;
    private int ownCpu = -1;

    CpuClocks(ExecStart execStart, Pin pin, LongSupplier monotonicNanos) {
        this.execStart = execStart;
        this.pin = pin;
        this.monotonicNanos = monotonicNanos;
    }

    /** Starts a read: forgets the last read's runnable tasks and own clock, keeps each CPU's offset. */
    void newRead() {
        runnable.clear();
        pinTried.clear();
        live = false;
        ownCpu = -1;
    }

    /** Whether this read has seen the reader's own clock: a live procfs, not a fixture tree. */
    boolean live() {
        return live;
    }

    /** The cheap pass saw task {@code tid} of {@code pid} runnable (state R) with {@code cpu} as its CPU. */
    void runnable(int cpu, int pid, int tid) {
        if (cpu < 0) {
            return;
        }
        long[] tasks = runnable.get(cpu);
        if (tasks == null) {
            tasks = new long[RUNNABLE_PER_CPU + 1]; // [0] = count
            runnable.put(cpu, tasks);
        }
        if (tasks[0] < RUNNABLE_PER_CPU) {
            tasks[(int) ++tasks[0]] = ((long) pid << 32) | (tid & 0xffffffffL);
        }
    }

    /** The reading thread ran on {@code cpu} with {@code execStartMillis} as its clock (NaN or cpu < 0: ignored). */
    void ranOn(int cpu, double execStartMillis) {
        if (cpu < 0 || Double.isNaN(execStartMillis) || execStartMillis <= 0) {
            return;
        }
        live = true;
        ownCpu = cpu;
        remember(cpu, execStartMillis);
    }

    private void remember(int cpu, double clockMillis) {
        long at = monotonicNanos.getAsLong();
        double offset = clockMillis - at / 1e6;
        double[] kept = offsets.get(cpu);
        // a sample that says an earlier clock than one seen moments ago (a runnable task that last ran a while
        // back) does not replace it
        if (kept == null || offset >= kept[0] || at - (long) kept[1] > REPLACE_AFTER_NANOS) {
            offsets.put(cpu, new double[] {offset, at});
        }
    }

    /** The reading thread's clock now, on the CPU it last ran on; NaN when this read has not seen it. */
    double own() {
        return live ? estimate(ownCpu) : Double.NaN;
    }

    /**
     * "Now" on {@code cpu} in milliseconds, or NaN when it is not known. The first time a read asks for a CPU, the
     * reader samples its own clock there ({@link Pin}); where it cannot, that CPU's runnable tasks are read (their
     * {@code sched}). Both only once the reader has seen its own clock: a tree without {@code thread-self} is a
     * fixture, not a live procfs, and its "now" is its uptime.
     */
    double nowOn(int cpu) {
        if (cpu < 0 || !live) {
            return Double.NaN;
        }
        if (!pinTried.get(cpu)) {
            pinTried.set(cpu);
            // the reader's own sample there (this read's last) is as exact as a pinned one: no pin, no second read
            if (cpu == ownCpu || pin.sample(cpu)) {
                runnable.remove(cpu); // exact: the runnable tasks' samples can only say less
            }
        }
        long[] tasks = runnable.remove(cpu);
        if (tasks != null) {
            double best = Double.NaN;
            for (int i = 1; i <= tasks[0]; i++) {
                double v = execStart.on(cpu, (int) (tasks[i] >>> 32), (int) tasks[i]);
                if (!Double.isNaN(v) && v > 0 && (Double.isNaN(best) || v > best)) {
                    best = v;
                }
            }
            if (!Double.isNaN(best)) {
                remember(cpu, best);
            }
        }
        return estimate(cpu);
    }

    private double estimate(int cpu) {
        double[] offset = offsets.get(cpu);
        long at = monotonicNanos.getAsLong();
        if (offset == null || at - (long) offset[1] > OFFSET_TTL_NANOS) {
            return Double.NaN;
        }
        return offset[0] + at / 1e6;
    }

    /**
     * Seconds since a task that last ran on {@code cpu} at {@code execStartMillis} ran, or NaN when this read cannot
     * tell (then the caller falls back to uptime, capped by the task's age). On a live procfs: 0 for an
     * {@code exec_start} of 0 (moved to another CPU and not run since: it is runnable); its CPU's "now" minus its last
     * run when that CPU's clock is known and not before it; else the reader's own clock on another CPU, off by the
     * two CPUs' drift, when that is not before the task's last run.
     */
    double blockedSeconds(int cpu, double execStartMillis) {
        if (!live) {
            return Double.NaN;
        }
        if (execStartMillis <= 0) {
            return 0;
        }
        double n = nowOn(cpu);
        if (!Double.isNaN(n) && n >= execStartMillis) {
            return (n - execStartMillis) / 1000.0;
        }
        // unknown, or known only from runnable tasks that last ran before this one did: no "now" for its CPU
        double own = own();
        if (Double.isNaN(own) || own < execStartMillis) {
            return Double.NaN;
        }
        return (own - execStartMillis) / 1000.0;
    }
}
