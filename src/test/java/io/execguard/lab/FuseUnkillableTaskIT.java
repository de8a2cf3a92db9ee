package io.execguard.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.execguard.host.CpuList;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Seed 004's signature on the real kernel (LAB.md reproductions 2, 3 and 5): two stacked bindfs
 * mounts ({@code src -> mntA -> mntB}); the lower daemon is stopped, so the upper daemon has read the
 * request and blocks in its own lookup on mntA. A task looking up a new name on mntB waits for an answer
 * that never comes; after SIGKILL it stays in D with SIGKILL pending (an already-sent FUSE request is
 * not abandoned). The scanner must call it {@code UnkillableTask} / {@code FuseRequest} and name the
 * connection the task waits on: the upper one, mntB's minor device number.
 *
 * <p>A single frozen bindfs does not give this state: a request still queued (never read) is
 * abandoned on SIGKILL and the task dies. Cleanup aborts both connections, which frees everything.
 */
class FuseUnkillableTaskIT {

    @BeforeEach
    void lab() {
        Lab.assumeLab();
    }

    @Test
    void killedTaskStuckOnAFrozenFuseMountIsUnkillableAndNamesItsConnection() throws Exception {
        long t0 = System.nanoTime();
        String bindfs = Lab.requireTool("bindfs");
        String fusermount = Lab.requireTool("fusermount3", "fusermount");
        String umount = Lab.requireTool("umount");
        String statTool = Lab.requireTool("stat");
        Lab.skipUnless(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
        Lab.skipUnless(fusectlMounted(), "fusectl is not mounted at " + Lab.FUSECTL
                + " (mount -t fusectl none " + Lab.FUSECTL + ")");
        try (Lab.Cleanup cleanup = new Lab.Cleanup("FuseUnkillableTaskIT")) {
            Path base = Lab.tempDir(cleanup, "execguard-lab-fuse").toRealPath();
            Path src = Files.createDirectory(base.resolve("src"));
            Path mntA = Files.createDirectory(base.resolve("mntA"));
            Path mntB = Files.createDirectory(base.resolve("mntB"));

            // -f: the PID we spawn is the daemon itself (no fork to background), so we stop exactly that one
            Process daemonA = Lab.start(cleanup, base, "bindfsA", bindfs, "-f", src.toString(), mntA.toString());
            int minorA = awaitFuseMount(cleanup, mntA, daemonA, fusermount, umount, base, "bindfsA");
            Process daemonB = Lab.start(cleanup, base, "bindfsB", bindfs, "-f", mntA.toString(), mntB.toString());
            int minorB = awaitFuseMount(cleanup, mntB, daemonB, fusermount, umount, base, "bindfsB");
            assertTrue(minorA != minorB);

            // made after mounting, so no layer has the name cached and the lookup must travel down the stack
            Files.createDirectory(src.resolve("newdir"));

            Lab.signal(daemonA.pid(), "STOP");
            cleanup.add("kill -CONT bindfsA (pid " + daemonA.pid() + ")", () -> {
                if (daemonA.isAlive()) {
                    Lab.signal(daemonA.pid(), "CONT");
                }
            });

            // On Java 22+ with two CPUs: the victim sleeps on the CPU whose scheduler clock runs ahead and the scan
            // starts on the one behind, so a reader that judged the victim's last run by its own CPU's clock would see
            // it blocked for the time less the drift (CI saw 2.6 s of drift hide a 3 s block): the reader pins itself
            // to the victim's CPU to read that CPU's clock (CpuClocks).
            int[] cpus = Runtime.version().feature() >= 22 ? aheadAndBehind() : null;
            String path = mntB.resolve("newdir").toString();
            Process victim = cpus == null ? Lab.start(cleanup, base, "stat", statTool, path)
                    : Lab.start(cleanup, base, "stat", Lab.requireTool("taskset"), "-c", Integer.toString(cpus[0]),
                            statTool, path);
            // aborting both connections answers every request: the victim dies, both daemons see ENOTCONN
            cleanup.add("abort FUSE connections " + minorB + " and " + minorA, () -> {
                abort(minorB);
                abort(minorA);
            });
            long pid = victim.pid();

            assertTrue(Lab.await(Duration.ofSeconds(5), () -> Lab.wchan(pid).equals("request_wait_answer")),
                    "the lookup did not block on the FUSE mount: state " + Lab.state(pid) + ", wchan "
                            + Lab.wchan(pid) + ", alive " + victim.isAlive());
            assertTrue(Lab.await(Duration.ofSeconds(5), () -> waiting(minorA) >= 1 && waiting(minorB) >= 1),
                    "expected one request waiting on each connection: A=" + waiting(minorA) + " B=" + waiting(minorB));

            victim.destroyForcibly(); // SIGKILL to the PID we started
            assertTrue(Lab.await(Duration.ofSeconds(5),
                            () -> Lab.state(pid) == 'D' && (Lab.pendingSignals(pid) & 0x100) != 0),
                    "the killed task should stay in D with SIGKILL pending: state " + Lab.state(pid)
                            + ", pending " + Long.toHexString(Lab.pendingSignals(pid)));
            // blocked well past the lowered 1 s threshold: SIGKILL wakes the task once more (FUSE queues an
            // INTERRUPT and re-sleeps uninterruptibly), so its off-CPU time starts a little after D + SIGKILL
            // shows; a 0.2 s margin was seen to lose that race on CI
            Thread.sleep(2_500);
            assertTrue(victim.isAlive(), "SIGKILL should not be able to end the task");

            String[] args = {"--confirm-seconds", "1", "--threshold", "UnkillableTask=1",
                    "--threshold", "StuckRuntimeInit=1", "--threshold", "HungTask=1"};
            Lab.Scan scan = cpus == null ? Lab.scan(args) : Lab.scanOnCpu(cpus[1], args);

            assertEquals(1, scan.exit(), scan::toString);
            List<JsonNode> hits = scan.findings("UnkillableTask").stream()
                    .filter(f -> f.path("pid").asLong() == pid).toList();
            assertEquals(1, hits.size(), () -> "no UnkillableTask for pid " + pid + ": " + scan);
            JsonNode f = hits.get(0);
            assertEquals("FuseRequest", f.path("cause").asText(), scan::toString);
            assertEquals("Critical", f.path("severity").asText());
            assertEquals("D", f.path("state").asText());
            assertEquals("stat", f.path("comm").asText());
            java.util.regex.Matcher notRun = java.util.regex.Pattern.compile("has not run for (\\d+)s")
                    .matcher(f.path("message").asText());
            assertTrue(notRun.find() && Integer.parseInt(notRun.group(1)) >= 2,
                    () -> "blocked at least the 2.5 s slept (CPUs ahead/behind " + java.util.Arrays.toString(cpus)
                            + "): " + f.path("message").asText());
            assertTrue(f.path("signalsPending").toString().contains("\"SIGKILL\""), scan::toString);
            assertTrue(f.path("kernelStack").toString().contains("request_wait_answer"), scan::toString);
            JsonNode mount = f.path("mount");
            assertEquals(minorB, mount.path("fuseConnection").asInt(-1),
                    () -> "the task waits on the upper connection (mntB, 0:" + minorB + "), not the lower (mntA, 0:"
                            + minorA + "): " + scan);
            assertEquals(mntB.toString(), mount.path("mountPoint").asText(), scan::toString);
            assertTrue(mount.path("fsType").asText().startsWith("fuse"), scan::toString);
            assertTrue(f.path("message").asText().contains("/sys/fs/fuse/connections/" + minorB + "/abort"),
                    f.path("message").asText());
            // the upper daemon waits interruptibly (state S) and was not killed: not an unkillable task
            assertTrue(scan.findings("UnkillableTask").stream()
                    .noneMatch(x -> x.path("pid").asLong() == daemonB.pid()), scan::toString);
        } finally {
            System.out.printf("[lab] FuseUnkillableTaskIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /**
     * Two CPUs this JVM may use, the one whose scheduler task clock is ahead first: each CPU's clock is read from
     * {@code se.exec_start} of a {@code cat /proc/thread-self/sched} run there, against the monotonic clock. Null
     * with fewer than two CPUs or no {@code taskset}.
     */
    private static int[] aheadAndBehind() throws Exception {
        if (Lab.which("taskset").isEmpty()) {
            return null;
        }
        List<Integer> cpus = CpuList.parse(CpuList.allowed(Path.of("/proc/self/status")));
        if (cpus.size() < 2) {
            return null;
        }
        double[] offset = new double[2];
        for (int i = 0; i < 2; i++) {
            Lab.Result r = Lab.run(Duration.ofSeconds(10), Lab.requireTool("taskset"), "-c",
                    Integer.toString(cpus.get(i)), Lab.requireTool("cat"), "/proc/thread-self/sched");
            double mono = System.nanoTime() / 1e6;
            String line = r.stdout().lines().filter(l -> l.startsWith("se.exec_start")).findFirst().orElse(null);
            if (line == null) {
                return null; // no CONFIG_SCHED_DEBUG: the scan reads no clock of a CPU at all
            }
            offset[i] = Double.parseDouble(line.split(":")[1].strip()) - mono;
        }
        int[] aheadBehind = offset[0] >= offset[1] ? new int[] {cpus.get(0), cpus.get(1)}
                : new int[] {cpus.get(1), cpus.get(0)};
        System.out.printf("[lab] CPU %d's task clock is %.0f ms ahead of CPU %d's%n", aheadBehind[0],
                Math.abs(offset[0] - offset[1]), aheadBehind[1]);
        return aheadBehind;
    }

    private static boolean fusectlMounted() {
        return Lab.mounts().anyMatch(m -> m.fsType().equals("fusectl") && m.mountPoint().equals(Lab.FUSECTL.toString()));
    }

    /**
     * Waits until {@code mountPoint} is a FUSE mount, registers its unmount (fusermount -u, else a lazy
     * umount), and returns its minor device number: the FUSE connection's number.
     */
    private static int awaitFuseMount(Lab.Cleanup cleanup, Path mountPoint, Process daemon, String fusermount,
                                      String umount, Path logs, String name) throws Exception {
        boolean up = Lab.await(Duration.ofSeconds(10), () -> !daemon.isAlive() || fuseAt(mountPoint).isPresent());
        Optional<Lab.Mount> m = fuseAt(mountPoint);
        if (!up || m.isEmpty()) {
            fail(name + " did not mount " + mountPoint + " (alive " + daemon.isAlive() + "): "
                    + Lab.read(logs.resolve(name + ".err")));
        }
        cleanup.add("unmount " + mountPoint, () -> {
            if (fuseAt(mountPoint).isEmpty()) {
                return;
            }
            Lab.Result r = Lab.run(Duration.ofSeconds(10), fusermount, "-u", mountPoint.toString());
            if (r.exit() != 0 && fuseAt(mountPoint).isPresent()) {
                Lab.Result lazy = Lab.run(Duration.ofSeconds(10), umount, "-l", mountPoint.toString());
                if (lazy.exit() != 0) {
                    throw new IOException("cannot unmount " + mountPoint + ": " + r.stderr() + lazy.stderr());
                }
            }
            // the daemon exits once its mount is gone; give it a moment before the kill step runs
            daemon.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
        });
        assertEquals(0, m.get().major(), "a FUSE mount has an anonymous device");
        return m.get().minor();
    }

    private static Optional<Lab.Mount> fuseAt(Path mountPoint) {
        return Lab.mountAt(mountPoint).filter(m -> m.fsType().equals("fuse") || m.fsType().startsWith("fuse."));
    }

    private static int waiting(int connection) {
        String w = Lab.read(Lab.FUSECTL.resolve(Integer.toString(connection)).resolve("waiting"));
        return w == null ? -1 : Integer.parseInt(w.strip());
    }

    /** Aborts a connection we hung; it may already be gone (daemon exited, unmounted). */
    private static void abort(int connection) throws IOException {
        Path abort = Lab.FUSECTL.resolve(Integer.toString(connection)).resolve("abort");
        if (Files.exists(abort)) {
            try {
                Files.writeString(abort, "1");
            } catch (java.nio.file.NoSuchFileException e) {
                // the connection went away meanwhile
            }
        }
    }
}
