package io.execguard.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.Scope;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;

/**
 * #12 point 1 on the real kernel: a task whose {@code /proc/PID/cmdline} read never returns, over 40 scans.
 *
 * <p>How cmdline blocks on this kernel: {@code get_mm_cmdline} reads the argument pages with
 * {@code access_remote_vm(..., FOLL_ANON)}, which refuses to fault in file pages, so a FUSE-backed argument
 * page cannot block it; what it can block on is the task's mmap lock ({@code mmap_read_lock_killable}). The
 * helper ({@code labhelper mmaplock}, a process in a docker-like pids cgroup) maps a page of a bindfs file;
 * with the daemon stopped, its child reads that page through {@code /proc/PID/mem}, which faults it in
 * under the helper's mmap lock without retry and so holds the lock while FUSE never answers; the helper
 * then calls {@code mmap()} and waits for the lock as a writer (D). Every later reader, cmdline included,
 * queues behind that writer: the real-world shape is a debugger or profiler reading a process's memory
 * while one of its mappings is on a hung FUSE or network filesystem.
 *
 * <p>The real HostReader and detectors run in process every 50 ms: the helper's finding keeps its
 * container (scope Container, never Node or Unknown), and however many scans go by at most one cmdline read
 * is outstanding (one blocked reader thread per task and kind), and none of any other kind.
 */
class StuckCmdlineIT {

    static final int SCANS = 40;

    @BeforeEach
    void lab() {
        Lab.assumeLab();
    }

    @Test
    void aTaskWhoseCmdlineNeverAnswersKeepsItsContainerOverFortyScansWithOneBlockedRead() throws Exception {
        long t0 = System.nanoTime();
        String bindfs = Lab.requireTool("bindfs");
        String fusermount = Lab.requireTool("fusermount3", "fusermount");
        Lab.skipUnless(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
        Path helper = Lab.helper();
        try (Lab.Cleanup cleanup = new Lab.Cleanup("StuckCmdlineIT")) {
            Path base = Lab.tempDir(cleanup, "execguard-lab-cmdline").toRealPath();
            Path src = Files.createDirectory(base.resolve("src"));
            Path mnt = Files.createDirectory(base.resolve("mnt"));
            Files.write(src.resolve("f"), new byte[64 << 10]);
            String id = Lab.randomContainerId();
            List<Process> ours = new ArrayList<>();
            Path cgroup = Lab.dockerPidsCgroup(cleanup, id, ours);

            Process daemon = Lab.start(cleanup, base, "bindfs", bindfs, "-f", src.toString(), mnt.toString());
            assertTrue(Lab.await(Duration.ofSeconds(10), () -> Lab.mountAt(mnt).isPresent() || !daemon.isAlive()),
                    "bindfs did not mount: " + Lab.read(base.resolve("bindfs.err")));
            cleanup.add("unmount " + mnt, () -> {
                if (Lab.mountAt(mnt).isPresent()) {
                    Lab.run(Duration.ofSeconds(10), fusermount, "-u", mnt.toString());
                }
                daemon.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
            });

            Path go = base.resolve("go");
            Process task = Lab.start(cleanup, base, "task", helper.toString(), "mmaplock", mnt.resolve("f").toString(),
                    go.toString(), cgroup.resolve("cgroup.procs").toString());
            ours.add(task);
            long pid = task.pid();
            Path out = base.resolve("task.out");
            assertTrue(Lab.await(Duration.ofSeconds(5), () -> String.valueOf(Lab.read(out)).contains("ready")),
                    "helper not ready: " + Lab.read(base.resolve("task.err")));

            Lab.signal(daemon.pid(), "STOP");
            // registered last, so it runs first: every blocked read (ours and the scanner's) returns
            cleanup.add("kill -CONT bindfs (pid " + daemon.pid() + ")", () -> {
                if (daemon.isAlive()) {
                    Lab.signal(daemon.pid(), "CONT");
                }
            });
            Files.writeString(go, "");
            assertTrue(Lab.await(Duration.ofSeconds(5), () -> String.valueOf(Lab.read(out)).contains("locked")),
                    "helper did not lock: " + Lab.read(base.resolve("task.err")));
            assertTrue(Lab.await(Duration.ofSeconds(5), () -> Lab.state(pid) == 'D'),
                    "the helper should wait for its mmap lock in D: state " + Lab.state(pid) + ", wchan "
                            + Lab.wchan(pid));
            // HungTask at 0 s below: the waiting writer is woken now and then (rwsem handoff), so its off-CPU time
            // restarts; what is tested is the scope and the reads, not the threshold

            DetectorSuite detectors = DetectorSuite.standard(Thresholds.DEFAULTS.with("HungTask", 0));
            int maxCmdline = 0;
            int maxOther = 0;
            List<String> scopes = new ArrayList<>();
            try (DeadlineReader slow = new DeadlineReader(Duration.ofMillis(200), 32)) {
                HostReader reader = new HostReader(new HostPaths(Path.of("/")), slow, Clock.systemUTC());
                for (int scan = 0; scan < SCANS; scan++) {
                    HostSnapshot s = reader.read();
                    ProcessSnapshot p = s.processes().stream().filter(x -> x.pid() == pid).findFirst().orElse(null);
                    assertNotNull(p, "scan " + scan + ": the helper is not a suspect");
                    // the cmdline read really blocks: timed out in the first scan, not read again after
                    assertEquals(Read.Status.TIMED_OUT, p.cmdline().status(), "scan " + scan + ": " + p.cmdline());
                    assertTrue(p.cgroupKnown(), "scan " + scan + ": cgroup not read");
                    assertEquals(id, p.containerId(), "scan " + scan);
                    List<Finding> mine = detectors.detect(s).stream().filter(f -> f.pid() != null && f.pid() == pid)
                            .toList();
                    int n = scan;
                    assertEquals(1, mine.size(), () -> "scan " + n + ": " + mine + "; threads " + p.threads());
                    Finding f = mine.get(0);
                    scopes.add(f.scope().name());
                    assertEquals(Scope.Container, f.scope(), "scan " + scan + ": " + f.message());
                    assertEquals(id, f.containerId(), "scan " + scan);
                    Map<DeadlineReader.Kind, Integer> blocked = slow.outstanding();
                    maxCmdline = Math.max(maxCmdline, blocked.get(DeadlineReader.Kind.CMDLINE));
                    for (Map.Entry<DeadlineReader.Kind, Integer> e : blocked.entrySet()) {
                        if (e.getKey() != DeadlineReader.Kind.CMDLINE) {
                            maxOther = Math.max(maxOther, e.getValue());
                        }
                    }
                    if (scan == 0) {
                        System.out.println("[lab] StuckCmdlineIT first scan: " + f.type() + " " + f.cause() + " "
                                + f.scope() + ": " + f.message() + "; cmdline " + p.cmdline().detail());
                    }
                    Thread.sleep(50);
                }
            }
            System.out.printf("[lab] StuckCmdlineIT: %d scans, scopes %s, cmdline reads blocked at most %d, other "
                    + "kinds at most %d%n", SCANS, new java.util.TreeSet<>(scopes), maxCmdline, maxOther);
            assertEquals(1, maxCmdline, "one blocked cmdline read for the task, however many scans");
            assertEquals(0, maxOther, "cgroup, mountinfo, files, stack and wchan reads do not block");
        } finally {
            System.out.printf("[lab] StuckCmdlineIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }
}
