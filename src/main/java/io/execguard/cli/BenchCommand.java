package io.execguard.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.execguard.bench.BusyNode;
import io.execguard.bench.ScratchTrees;
import io.execguard.bench.SyntheticHost;
import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;
import io.execguard.host.HostUnreadableException;

/**
 * {@code execguard bench}: times full scans (read + detect, no confirmation sleep) over synthetic busy-node
 * trees and over a real host root, and prints tasks/second and µs/task for each. Not a test.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark scan: build synthetic busy-node trees of the given task counts (under /dev/shm "
                + "if present, else /tmp; deleted afterwards), warm up, then time full scans of each and of "
                + "the host root. Prints tasks/second and microseconds per task."})
public final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--tasks", split = ",", paramLabel = "N[,N...]", defaultValue = "10000,50000",
            description = "Synthetic tree sizes in tasks (default: ${DEFAULT-VALUE}).")
    List<Integer> taskCounts = new ArrayList<>();

    @Option(names = "--host-root", paramLabel = "DIR", defaultValue = "/",
            description = "A real host root to time as well; 'none' skips it (default: ${DEFAULT-VALUE}).")
    String hostRoot;

    @Option(names = "--only-host-root",
            description = "Time the host root only, no synthetic trees (e.g. a tree written beforehand).")
    boolean onlyHostRoot;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "5",
            description = "Untimed scans per tree first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "7",
            description = "Timed scans per tree (default: ${DEFAULT-VALUE}).")
    int runs;

    /** One tree's timings. */
    record Result(String tree, int tasks, int findings, double medianMillis, double minMillis, double cpuMillis) {
        double tasksPerSecond() {
            return tasks / (medianMillis / 1000.0);
        }

        double microsPerTask() {
            return medianMillis * 1000.0 / tasks;
        }
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (warmup < 0 || runs < 1) {
            throw new CommandLine.ParameterException(cl, "--warmup must be >= 0 and --runs >= 1");
        }
        for (int n : taskCounts) {
            if (n < 100) {
                throw new CommandLine.ParameterException(cl, "--tasks values must be >= 100, got " + n);
            }
        }
        if (onlyHostRoot) {
            taskCounts = List.of();
        }
        long maxHeap = Runtime.getRuntime().maxMemory();
        for (int n : taskCounts) {
            if (maxHeap < heapNeeded(n)) {
                throw new CommandLine.ParameterException(cl, String.format(Locale.ROOT, "--tasks %d needs a heap of "
                        + "at least %d MiB, this JVM has %d MiB: run it with -Xmx%dm (or fewer tasks)", n,
                        heapNeeded(n) >> 20, maxHeap >> 20, heapNeeded(n) >> 20));
            }
        }
        PrintWriter out = cl.getOut();
        List<Result> results = new ArrayList<>();
        Path base = ScratchTrees.defaultBase();
        ScratchTrees.sweepStale(base).forEach(p -> out.println("deleted " + p + ", left behind by an earlier run"));
        try (ScratchTrees trees = new ScratchTrees(base, "bench")) {
            for (int n : taskCounts) {
                results.add(timeSynthetic(trees, n, out));
            }
        }
        if (!"none".equals(hostRoot)) {

            try {
                results.add(time("host " + hostRoot, Path.of(hostRoot)));
            } catch (HostUnreadableException e) {
                cl.getErr().println("execguard bench: cannot scan " + hostRoot + ": " + e.getMessage());
            }
        }
        out.println();
        out.printf(Locale.ROOT, "%-22s %8s %8s %11s %11s %11s %13s %9s%n", "TREE", "TASKS", "FINDINGS", "MEDIAN ms",
                "MIN ms", "CPU ms", "TASKS/s", "µs/TASK");
        for (Result r : results) {
            out.printf(Locale.ROOT, "%-22s %8d %8d %11.2f %11.2f %11.2f %13.0f %9.2f%n", r.tree(), r.tasks(),
                    r.findings(), r.medianMillis(), r.minMillis(), r.cpuMillis(), r.tasksPerSecond(), r.microsPerTask());
        }
        out.printf(Locale.ROOT, "(%d warm-up + %d timed full scans per tree: cheap pass, deep pass of suspects, "
                + "cgroups, detectors; no confirmation window; CPU ms: the process's CPU per scan, mean)%n", warmup,
                runs);
        out.flush();
        return 0;
    }

    /**
     * The heap a bench of {@code tasks} needs (writing the tree, then the snapshot of every task plus the
     * detectors' working set): measured, the heap after GC peaked at 32 MiB for 50,000 tasks; this is 1.5 times
     * that, 48 MiB at 50,000 tasks and 22 MiB at 10,000 (docs/RESOURCES.md). Below it bench refuses to start
     * rather than run out of memory half way.
     */
    static long heapNeeded(int tasks) {
        return (HEAP_BASE_MIB << 20) + (long) tasks * HEAP_BYTES_PER_TASK;
    }

    static final long HEAP_BASE_MIB = 16;
    static final long HEAP_BYTES_PER_TASK = 672;

    /** The process's CPU time (all threads: scan, deadline readers, JIT, GC), from /proc/self/stat (10 ms ticks). */
    private static long cpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    /** Builds one tree under {@code trees}, times it and deletes it, whatever happens in between. */
    private Result timeSynthetic(ScratchTrees trees, int n, PrintWriter out) {
        Path dir = trees.create();
        try {
            long t0 = System.nanoTime();
            SyntheticHost h = SyntheticHost.create(dir, SyntheticHost.CgroupLayout.V2, 30 * 86400.0);
            BusyNode.Populated p = BusyNode.populate(h, n, 300, 42);
            out.printf(Locale.ROOT, "built synthetic tree of %d tasks (%d processes, %d pods) in %s in %.1f s%n",
                    p.tasks(), p.processes(), p.pods(), dir, (System.nanoTime() - t0) / 1e9);
            out.flush();
            return time("synthetic " + n, dir);
        } finally {
            trees.delete(dir);
        }
    }

    private Result time(String name, Path root) {
        try (DeadlineReader slow = new DeadlineReader(Duration.ofSeconds(1), 32)) {
            HostReader reader = new HostReader(new HostPaths(root), slow, Clock.systemUTC());
            DetectorSuite suite = DetectorSuite.standard(Thresholds.DEFAULTS);
            int tasks = 0;
            int findings = 0;
            for (int i = 0; i < warmup; i++) {
                findings = suite.detect(reader.read()).size();
            }
            double[] millis = new double[runs];
            long cpu0 = cpuNanos();
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                HostSnapshot s = reader.read();
                List<Finding> f = suite.detect(s);
                millis[i] = (System.nanoTime() - t0) / 1e6;
                tasks = s.tasksScanned();
                findings = f.size();
            }
            double cpuMillis = (cpuNanos() - cpu0) / 1e6 / runs;
            Arrays.sort(millis);
            return new Result(name, tasks, findings, millis[runs / 2], millis[0], cpuMillis);
        }
    }
}
