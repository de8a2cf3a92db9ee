package io.execguard.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the exec canary costs the node, measured around a run of canaries (a benchmark's figures, printed by
 * {@link CanaryNodeIT}): CPU of the runtime (containerd) and of the probe pod's shim with the processes it reaped
 * ({@code runc exec}, {@code runc init} that became {@code /app/canary}: {@code cutime + cstime}), CPU of the probe's
 * JVM, and — sampled every 2 ms from the probe container's own cgroups — the pids and memory a canary adds to that
 * container (what its {@code pids.max} and memory limit must leave room for). Reads only; signals nothing.
 */
final class CanaryCost implements AutoCloseable {

    /** One process's CPU in clock ticks: its own (utime + stime) and its reaped children's (cutime + cstime). */
    record Cpu(long own, long children) {
        static Cpu of(long pid) throws IOException {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields 14-17 of proc(5): utime stime cutime cstime (f[0] is field 3)
            return new Cpu(Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[13]) + Long.parseLong(f[14]));
        }

        Cpu minus(Cpu o) {
            return new Cpu(own - o.own, children - o.children);
        }
    }

    record Figures(Cpu shim, Cpu containerd, Cpu probe, long pidsBase, long pidsPeak, long memBase, long memPeak,
                   long probeRssKib) {
        String text(long canaries) {
            double ms = 1000.0 / 100 / canaries; // clock ticks are 1/100 s
            return String.format("per canary (%d): shim + what it reaped (runc exec, runc init, /app/canary) %.1f ms "
                            + "CPU, containerd %.1f ms, the probe's JVM %.1f ms (its scans included); the probe container: "
                            + "pids %d at rest, %d at most (+%d during a canary), memory +%.1f MiB at most over %.1f MiB "
                            + "(cgroup usage, page cache included); probe RSS %.1f MiB",
                    canaries, (shim.own + shim.children) * ms, (containerd.own + containerd.children) * ms,
                    probe.own * ms, pidsBase, pidsPeak, pidsPeak - pidsBase, (memPeak - memBase) / 1048576.0,
                    memBase / 1048576.0, probeRssKib / 1024.0);
        }
    }

    private final long shim;
    private final long containerd;
    private final long probe;
    private final Path pidsCurrent;
    private final Path memoryUsage;
    private final Cpu shim0;
    private final Cpu containerd0;
    private final Cpu probe0;
    private final long pidsBase;
    private final long memBase;
    private final AtomicLong pidsPeak = new AtomicLong();
    private final AtomicLong memPeak = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread sampler;

    /**
     * @param probe      the probe JVM's host pid (the container's init)
     * @param shim       its shim's pid
     * @param containerd the node's containerd
     * @param pidsDir    the probe container's pids cgroup folder
     * @param memoryDir  the probe container's memory cgroup folder
     */
    CanaryCost(long probe, long shim, long containerd, Path pidsDir, Path memoryDir) throws IOException {
        this.probe = probe;
        this.shim = shim;
        this.containerd = containerd;
        this.pidsCurrent = pidsDir.resolve("pids.current");
        Path v1 = memoryDir.resolve("memory.usage_in_bytes");
        this.memoryUsage = Files.exists(v1) ? v1 : memoryDir.resolve("memory.current");
        this.shim0 = Cpu.of(shim);
        this.containerd0 = Cpu.of(containerd);
        this.probe0 = Cpu.of(probe);
        this.pidsBase = read(pidsCurrent);
        this.memBase = read(memoryUsage);
        pidsPeak.set(pidsBase);
        memPeak.set(memBase);
        this.sampler = Thread.ofPlatform().daemon().name("canary-cost").start(this::sample);
    }

    private void sample() {
        while (running.get()) {
            try {
                pidsPeak.accumulateAndGet(read(pidsCurrent), Math::max);
                memPeak.accumulateAndGet(read(memoryUsage), Math::max);
                Thread.sleep(2);
            } catch (IOException | RuntimeException e) {
                return; // the container went away: the figures so far stand
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static long read(Path p) throws IOException {
        return Long.parseLong(Files.readString(p).strip());
    }

    /** Stops sampling and returns the figures since the start. */
    Figures stop() throws IOException, InterruptedException {
        running.set(false);
        sampler.join(1000);
        long rss = Files.readAllLines(Path.of("/proc/" + probe + "/status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst()
                .orElse(-1L);
        return new Figures(Cpu.of(shim).minus(shim0), Cpu.of(containerd).minus(containerd0), Cpu.of(probe).minus(probe0),
                pidsBase, pidsPeak.get(), memBase, memPeak.get(), rss);
    }

    @Override
    public void close() {
        running.set(false);
    }
}
