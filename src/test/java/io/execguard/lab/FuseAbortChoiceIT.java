package io.execguard.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;
import io.execguard.repair.HostRepairs;
import io.execguard.repair.ProcHostRepairs;
import io.execguard.repair.Repair;
import io.execguard.repair.RepairKind;
import io.execguard.repair.RepairPolicy;
import io.execguard.repair.Repairer;

/**
 * #12 point 5 on the real kernel: which FUSE connection {@code abortStuckFuse} aborts. Two FUSE setups:
 * <ul>
 *   <li>stuck: a bindfs stack {@code src -> mntA -> mntB} with A's daemon stopped. The victim opened a file on
 *   mntB in the host's mount namespace, then moved to its own ({@code unshare -m}) where mntB and mntA are
 *   lazily unmounted: the stuck connection is <em>not in its view</em>, only its open file is on it. It then
 *   reads that file (B's daemon takes the request and blocks on A) and is SIGKILLed: D, SIGKILL pending.</li>
 *   <li>healthy and busy: bindfs {@code srcC -> mntC}, mounted before the unshare, so in the victim's view, with
 *   readers in a loop on it.</li>
 * </ul>
 * The real scan (HostReader, detectors) and the real Repairer run in process: first in dry run for a number of
 * scans (every plan is recorded; connection C must never be planned, and the test reports how many scans in a
 * row saw C busy — under the old "only busy FUSE mount in the task's view" rule each such pair aborted C), then
 * for real into the real fusectl: B is aborted, the victim exits, C still serves reads.
 */
class FuseAbortChoiceIT {

    @BeforeEach
    void lab() {
        Lab.assumeLab();
    }

    @Test
    void abortsOnlyTheConnectionOfTheStuckTasksOpenFileNeverTheBusyOneInItsView() throws Exception {
        long t0 = System.nanoTime();
        String bindfs = Lab.requireTool("bindfs");
        String fusermount = Lab.requireTool("fusermount3", "fusermount");
        String umount = Lab.requireTool("umount");
        String unshare = Lab.requireTool("unshare");
        String sh = Lab.requireTool("sh");
        Lab.skipUnless(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
        Lab.skipUnless(Lab.mounts().anyMatch(m -> m.fsType().equals("fusectl")
                && m.mountPoint().equals(Lab.FUSECTL.toString())), "fusectl is not mounted at " + Lab.FUSECTL);
        // the scan reads /proc/1/mountinfo as the host's table (its ns/mnt link may be unreadable: ptrace rules)
        Lab.skipUnless(Files.readString(Path.of("/proc/1/mountinfo"))
                        .equals(Files.readString(Path.of("/proc/self/mountinfo"))),
                "the test must run in pid 1's mount namespace");
        try (Lab.Cleanup cleanup = new Lab.Cleanup("FuseAbortChoiceIT")) {
            Path base = Lab.tempDir(cleanup, "execguard-lab-fuse-choice").toRealPath();
            Path src = Files.createDirectory(base.resolve("src"));
            Path mntA = Files.createDirectory(base.resolve("mntA"));
            Path mntB = Files.createDirectory(base.resolve("mntB"));
            Path srcC = Files.createDirectory(base.resolve("srcC"));
            Path mntC = Files.createDirectory(base.resolve("mntC"));
            Files.write(src.resolve("data"), new byte[1 << 20]);
            Files.write(srcC.resolve("hot"), new byte[256 << 10]);

            Process daemonA = Lab.start(cleanup, base, "bindfsA", bindfs, "-f", src.toString(), mntA.toString());
            int connA = awaitFuseMount(cleanup, mntA, daemonA, fusermount, umount, base, "bindfsA");
            // sync_read: reads (readahead included) are requests the reader waits on itself (request_wait_answer),
            // not background requests it waits for through a page lock
            Process daemonB = Lab.start(cleanup, base, "bindfsB", bindfs, "-f", "-o", "sync_read", mntA.toString(),
                    mntB.toString());
            int connB = awaitFuseMount(cleanup, mntB, daemonB, fusermount, umount, base, "bindfsB");
            Process daemonC = Lab.start(cleanup, base, "bindfsC", bindfs, "-f", srcC.toString(), mntC.toString());
            int connC = awaitFuseMount(cleanup, mntC, daemonC, fusermount, umount, base, "bindfsC");
            cleanup.add("abort FUSE connections " + connB + " and " + connA + " (never " + connC + ")", () -> {
                abort(connB);
                abort(connA);
            });

            // the healthy, busy one: readers in a loop (each cat is OPEN, READ..., FLUSH, RELEASE on C)
            for (int i = 0; i < 4; i++) {
                Lab.start(cleanup, base, "readerC" + i, sh, "-c",
                        "while :; do cat '" + mntC.resolve("hot") + "' > /dev/null; done");
            }

            // The victim: fd 3 opened on mntB in the host namespace, then its own mount namespace without mntB
            // and mntA (lazily unmounted there), then, on "go", a read of fd 3 (cat's stdin). Every step execs,
            // so the PID we started is the cat.
            Path ready = base.resolve("ready");
            Path go = base.resolve("go");
            String inner = "umount -l '" + mntB + "' && umount -l '" + mntA + "' && : > '" + ready + "'"
                    + " && while [ ! -e '" + go + "' ]; do sleep 0.05; done; exec cat <&3 > /dev/null";
            Process victim = Lab.start(cleanup, base, "victim", sh, "-c", "exec 3< '" + mntB.resolve("data")
                    + "'; exec " + unshare + " -m --propagation private " + sh + " -c \"" + inner + "\"");
            long pid = victim.pid();
            assertTrue(Lab.await(Duration.ofSeconds(10), () -> Files.exists(ready) || !victim.isAlive()),
                    "the victim did not set up its namespace: " + Lab.read(base.resolve("victim.err")));
            assertTrue(victim.isAlive(), () -> "victim exited: " + Lab.read(base.resolve("victim.err")));
            String victimMounts = Lab.read(Path.of("/proc/" + pid + "/mountinfo"));
            assertFalse(victimMounts.contains(" " + mntB + " ") || victimMounts.contains(" 0:" + connB + " "),
                    "mntB should not be in the victim's view");
            assertTrue(victimMounts.contains(" 0:" + connC + " "), "mntC should be in the victim's view");

            Lab.signal(daemonA.pid(), "STOP");
            cleanup.add("kill -CONT bindfsA (pid " + daemonA.pid() + ")", () -> {
                if (daemonA.isAlive()) {
                    Lab.signal(daemonA.pid(), "CONT");
                }
            });
            Files.writeString(go, "");
            assertTrue(Lab.await(Duration.ofSeconds(10), () -> Lab.wchan(pid).equals("request_wait_answer")),
                    "the read did not block on mntB: state " + Lab.state(pid) + ", wchan " + Lab.wchan(pid)
                            + ", alive " + victim.isAlive() + ": " + Lab.read(base.resolve("victim.err")));
            assertTrue(Lab.await(Duration.ofSeconds(5), () -> waiting(connB) >= 1 && waiting(connA) >= 1),
                    "expected a request waiting on B and on A: B=" + waiting(connB) + " A=" + waiting(connA));
            victim.destroyForcibly(); // SIGKILL to the PID we started
            assertTrue(Lab.await(Duration.ofSeconds(5),
                            () -> Lab.state(pid) == 'D' && (Lab.pendingSignals(pid) & 0x100) != 0),
                    "the killed victim should stay in D with SIGKILL pending: state " + Lab.state(pid));
            Thread.sleep(2_500); // past the 1 s threshold used below, with margin (see FuseUnkillableTaskIT)

            List<String> aborted = new ArrayList<>();
            HostRepairs real = new ProcHostRepairs(Path.of("/"));
            HostRepairs recording = new HostRepairs() {
                @Override
                public void abortFuseConnection(int connection) throws IOException {
                    aborted.add("abort " + connection);
                    if (connection != connB && connection != connA) {
                        // never write to a connection the test does not own: the check fails below anyway
                        throw new IOException("refused by the test: connection " + connection + " is not B or A");
                    }
                    real.abortFuseConnection(connection);
                }

                @Override
                public boolean signal(int p, long start, String sig) {
                    aborted.add("signal " + p);
                    return false;
                }
            };
            RepairPolicy dry = new RepairPolicy(true, false, Duration.ofDays(1), true, Duration.ofSeconds(10),
                    Set.of(), Set.of());
            RepairPolicy live = new RepairPolicy(true, false, Duration.ofDays(1), false, Duration.ofSeconds(10),
                    Set.of(), Set.of());
            DetectorSuite detectors = DetectorSuite.standard(Thresholds.DEFAULTS.with("UnkillableTask", 1));
            Repairer repairer = new Repairer(recording, "lab");
            List<Repair> planned = new ArrayList<>();
            int cBusyTwice = 0;
            int previousC = 0;
            boolean victimFound = false;
            try (DeadlineReader slow = new DeadlineReader(Duration.ofMillis(500), 8)) {
                HostReader reader = new HostReader(new HostPaths(Path.of("/")), slow, Clock.systemUTC());
                for (int scan = 0; scan < 20; scan++) {
                    HostSnapshot s = reader.read();
                    Map<String, Finding> findings = ids(detectors.detect(s));
                    victimFound |= findings.values().stream()
                            .anyMatch(f -> f.type() == FindingType.UnkillableTask && f.pid() == pid);
                    int c = s.fuseConnections().stream().filter(x -> x.id() == connC).mapToInt(FuseConnection::waiting)
                            .findFirst().orElse(0);
                    cBusyTwice += c > 0 && previousC > 0 ? 1 : 0;
                    previousC = c;
                    planned.addAll(repairer.run(findings, s, dry, Instant.now()));
                    Thread.sleep(100);
                }
                System.out.printf("[lab] FuseAbortChoiceIT: connections A=%d B=%d C=%d; C busy in %d pairs of "
                        + "consecutive dry-run scans; planned: %s%n", connA, connB, connC, cBusyTwice,
                        planned.stream().map(r -> r.action().target()).toList());
                assertTrue(victimFound, "the scan did not report the victim (pid " + pid + ") as UnkillableTask");
                assertTrue(planned.stream().noneMatch(r -> r.action().fuseConnection() == connC),
                        () -> "the healthy busy connection " + connC + " was planned: " + planned);
                assertEquals(List.of(connB), planned.stream().map(r -> r.action().fuseConnection()).toList(),
                        () -> "expected exactly one (dry-run) abort, of B: " + planned);
                assertEquals(List.of(), aborted, "dry run changed something");

                // for real: the stuck connection is aborted, the victim can exit, C is untouched
                List<Repair> done = new ArrayList<>();
                for (int scan = 0; scan < 3 && done.isEmpty(); scan++) {
                    HostSnapshot s = reader.read();
                    done.addAll(repairer.run(ids(detectors.detect(s)), s, live, Instant.now()));
                    Thread.sleep(100);
                }
                assertEquals(1, done.size(), () -> "expected one abort: " + done);
                assertEquals(RepairKind.AbortFuseConnection, done.get(0).action().kind());
                assertEquals(Repair.Result.Done, done.get(0).result(), done.get(0)::toString);
                assertEquals(List.of("abort " + connB), aborted);
                assertTrue(victim.waitFor(10, java.util.concurrent.TimeUnit.SECONDS),
                        "the victim did not exit after its connection was aborted");
                assertTrue(Files.exists(Lab.FUSECTL.resolve(Integer.toString(connC))), "connection C is gone");
                assertEquals(256 << 10, Files.readAllBytes(mntC.resolve("hot")).length, "C no longer serves reads");
            }
        } finally {
            System.out.printf("[lab] FuseAbortChoiceIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    private static Map<String, Finding> ids(List<Finding> findings) {
        Map<String, Finding> m = new LinkedHashMap<>();
        for (Finding f : findings) {
            m.put(f.type() + "/" + f.pid() + "/" + f.tid(), f);
        }
        return m;
    }

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
