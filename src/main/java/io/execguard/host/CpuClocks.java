package io.execguard.host;

import java.util.HashMap;
import java.util.Map;

/**
 * "Now" on each CPU's scheduler task clock, for one read of a host: the clock a task's {@code se.exec_start}
 * (in {@code /proc/TID/sched}) is written in.
 *
 * <p>{@code se.exec_start} is {@code rq_clock_task} of the CPU the task last ran on ({@code stat} field 39).
 * That clock leaves out the CPU's own interrupt time and, on a virtual machine, the time the hypervisor stole
 * from that vCPU, so the CPUs' clocks drift apart: on the lab VM CPU 1's ran 3.2 s behind CPU 0's after
 * 9.7 hours up. Compared with another CPU's clock, a task blocked 2.5 s reads as blocked 0 s, or 5.7 s. So a
 * task's last run is compared with "now" on its own CPU, which is the best of:
 * <ol>
 *   <li>the reading thread's own {@code se.exec_start}, taken while it ran on that CPU ({@link #ranOn}); it is
 *       running as it reads, so this is the CPU's clock at that moment;</li>
 *   <li>the latest {@code se.exec_start} of the tasks the cheap pass saw runnable there ({@link #runnable}): one
 *       runs there, the others ran moments ago. The kernel zeroes {@code exec_start} when it moves a task to
 *       another CPU ({@code migrate_task_rq_fair}), so a value above zero read while the task was on that CPU
 *       is that CPU's own ({@link ExecStart} checks that it was).</li>
 * </ol>
 * Every one of these is a time that CPU's clock has already passed: the blocked time they give is never more
 * than the truth. A CPU with neither in this read (idle throughout, and the reader did not run there) takes its
 * clock's offset from the monotonic clock as an earlier read last saw it, if that was within {@link #OFFSET_TTL_NANOS}:
 * a CPU's task clock falls behind the monotonic one only by the time stolen from it or spent in its interrupts,
 * which an idle CPU hardly has (this is what keeps a long-lived probe exact for tasks stuck on a CPU it may not
 * run on, such as a Guaranteed pod's exclusive CPU). With none of that, {@link #nowOn} is NaN and the caller
 * falls back to the reader's clock on another CPU.
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

    /** Runnable tasks remembered per CPU: enough that one of them is the running one or ran moments ago. */
    static final int RUNNABLE_PER_CPU = 4;

    /** How long a CPU's offset from the monotonic clock, as last seen, stands in for a read of its own. */
    static final long OFFSET_TTL_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(10);

    private final ExecStart execStart;
    private final java.util.function.LongSupplier monotonicNanos;
    private final Map<Integer, Double> now = new HashMap<>();
    private final Map<Integer, long[]> runnable = new HashMap<>();
    private double latestOwn = Double.NaN;
    /** Per CPU: its task clock minus the monotonic clock (ms), and when that was seen (monotonic ns). */
    private final Map<Integer, double[]> offsets = new HashMap<>();

    CpuClocks(ExecStart execStart, java.util.function.LongSupplier monotonicNanos) {
        this.execStart = execStart;
        this.monotonicNanos = monotonicNanos;
    }

    /** Starts a read: forgets this read's samples and runnable tasks, keeps each CPU's offset. */
    void newRead() {
        now.clear();
        runnable.clear();
        latestOwn = Double.NaN;
    }

    private void remember(int cpu, double clockMillis) {
        long at = monotonicNanos.getAsLong();
        offsets.put(cpu, new double[] {clockMillis - at / 1e6, at});
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
        now.merge(cpu, execStartMillis, Math::max);
        latestOwn = Double.isNaN(latestOwn) ? execStartMillis : Math.max(latestOwn, execStartMillis);
        remember(cpu, now.get(cpu));
    }

    /** The reading thread's latest clock, on whichever CPU it ran; NaN when it never read its own. */
    double own() {
        return latestOwn;
    }

    /**
     * "Now" on {@code cpu} in milliseconds: a time its task clock has passed, or the estimate from its last seen
     * offset, or NaN when neither is known.
     * The runnable tasks of a CPU are read (their {@code sched}) the first time that CPU is asked for in a read;
     * without them, the CPU's offset as an earlier read saw it ({@link #OFFSET_TTL_NANOS}). Tasks are read only
     * once the reader has seen its own clock: a tree without {@code thread-self} is a fixture, not a live
     * procfs, and its "now" is its uptime.
     */
    double nowOn(int cpu) {
        if (cpu < 0 || Double.isNaN(latestOwn)) {
            return Double.NaN;
        }
        long[] tasks = runnable.remove(cpu);
        if (tasks != null) {
            for (int i = 1; i <= tasks[0]; i++) {
                double v = execStart.on(cpu, (int) (tasks[i] >>> 32), (int) tasks[i]);
                if (!Double.isNaN(v) && v > 0) {
                    now.merge(cpu, v, Math::max);
                }
            }
            Double v = now.get(cpu);
            if (v != null) {
                remember(cpu, v);
            }
        }
        Double v = now.get(cpu);
        if (v != null) {
            return v;
        }
        double[] offset = offsets.get(cpu);
        long at = monotonicNanos.getAsLong();
        if (offset == null || at - (long) offset[1] > OFFSET_TTL_NANOS) {
            return Double.NaN;
        }
        return offset[0] + at / 1e6;
    }

    /**
     * Seconds since a task that last ran on {@code cpu} at {@code execStartMillis} ran, or NaN when this read
     * cannot tell: its CPU's "now" when known and not before that run, else the reader's own clock on another CPU
     * (off by the two CPUs' drift), else NaN.
     */
    double blockedSeconds(int cpu, double execStartMillis) {
        double n = nowOn(cpu);
        if (Double.isNaN(n) || n < execStartMillis) {
            n = latestOwn;
        }
        if (Double.isNaN(n) || n < execStartMillis) {
            return Double.NaN;
        }
        return (n - execStartMillis) / 1000.0;
    }
}
