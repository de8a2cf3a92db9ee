package io.execguard.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.bench.SyntheticHost;
import io.execguard.detect.Finding;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.repair.ProcHostRepairs;
import io.execguard.repair.Repairer;

/**
 * Issue #12, point 1: a task whose {@code cmdline} read never returns (here a FIFO with no writer where
 * {@code /proc/PID/cmdline} should be: its open blocks the way a read of a stuck task's cmdline blocks on
 * the mmap lock) must not, scan after scan, use up the reader's budget until {@code cgroup} and
 * {@code mountinfo} go unread and the container's finding turns into a Node-scope one.
 */
class StuckReadBudgetTest {

    static final int PID = 5120;
    static final String CID = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    static final String POD = "7d4b1c2e-3f5a-4b6c-8d7e-9f0a1b2c3d4e";
    static final int SCANS = 40;

    @TempDir
    Path root;
    private Path fifo;

    /** A container task stuck on NFS for 10 minutes whose cmdline read blocks. */
    private void writeHost() throws Exception {
        SyntheticHost h = SyntheticHost.create(root, SyntheticHost.CgroupLayout.V2, 86_400);
        h.process(1, "systemd").ppid(0).cmdline("/sbin/init").cgroup("0::/init.scope").mntNs("mnt:[4026531840]")
                .main(t -> t.wchan("ep_poll").stack("ep_poll+0x2aa/0x370")).write();
        String cg = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD.replace('-', '_')
                + ".slice/cri-containerd-" + CID + ".scope";
        h.process(PID, "app").ppid(1).age(3600).nsPid(1).cmdline("app").cgroup(cg).mntNs("mnt:[4026532711]")
                .mountinfo("1391 1310 0:152 / / rw,relatime - overlay overlay rw\n"
                        + "1392 1391 0:155 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
                        + "1401 1391 0:88 / /data rw,relatime - nfs4 10.0.0.5:/export rw,vers=4.2\n")
                .main(t -> t.state('D').wchan("rpc_wait_bit_killable").blockedFor(600)
                        .stack("rpc_wait_bit_killable+0x1e/0x90", "__rpc_execute+0x11c/0x3c0",
                                "rpc_run_task+0x136/0x180", "nfs4_call_sync_sequence+0x6b/0xa0",
                                "_nfs4_proc_getattr+0xb8/0xd0", "nfs4_proc_getattr+0x5e/0x110",
                                "__nfs_revalidate_inode+0xd6/0x2e0", "nfs_getattr+0x1a0/0x3a0",
                                "vfs_statx+0x9a/0x120", "__do_sys_newstat+0x39/0x70", "do_syscall_64+0x82/0x190"))
                .write();
        fifo = root.resolve("proc").resolve(Integer.toString(PID)).resolve("cmdline");
        Files.delete(fifo);
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        assertTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo failed");
    }

    @AfterEach
    void releaseBlockedReaders() throws Exception {
        if (fifo == null || !Files.exists(fifo)) {
            return;
        }
        // Readers blocked in open(2) on the FIFO return once a writer opens it, and read EOF once it closes.
        // Opening for write blocks while no reader waits: then open a reader ourselves to let the writer through.
        Thread writer = new Thread(() -> {
            try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                out.flush();
            } catch (IOException e) {
                // the tree is going away
            }
        }, "fifo-writer");
        writer.setDaemon(true);
        writer.start();
        writer.join(2000);
        if (writer.isAlive()) {
            try (FileInputStream in = new FileInputStream(fifo.toFile())) {
                in.readAllBytes();
            }
            writer.join(2000);
        }
    }

    @Test
    void aCmdlineReadThatNeverReturnsDoesNotTurnAContainerFindingIntoANodeOne() throws Exception {
        writeHost();
        Clock clock = Clock.fixed(Instant.parse("2026-11-23T10:00:00Z"), ZoneOffset.UTC);
        ProbeConfig config = ProbeConfig.fromEnv(Map.of("NODE_NAME", "node-1"));
        Metrics metrics = new Metrics();
        List<ProbeReport> reports = new ArrayList<>();
        try (DeadlineReader slow = new DeadlineReader(Duration.ofMillis(20), 32)) {
            ProbeLoop loop = new ProbeLoop(config, new HostReader(new HostPaths(root), slow, clock)::read,
                    new FindingTracker(), () -> new PodIndex(List.of()), ProbePolicy::defaults, reports::add,
                    new Repairer(new ProcHostRepairs(root), "node-1"), metrics, clock);
            for (int scan = 1; scan <= SCANS; scan++) {
                ProbeReport r = loop.runOnce();
                assertNotNull(r, "scan " + scan + " failed");
                Finding f = r.findings().stream().map(i -> i.tracked().finding())
                        .filter(x -> x.pid() != null && x.pid() == PID).findFirst().orElse(null);
                assertNotNull(f, "scan " + scan + ": no finding for pid " + PID + ": " + r.findings());
                String at = "scan " + scan + ": " + f;
                assertEquals("HungTask", f.type().name(), at);
                assertEquals("NfsRequest", f.cause().name(), at);
                assertEquals("Container", f.scope().name(), at);
                assertEquals(CID, f.containerId(), at);
                assertEquals(POD, f.podUid(), at);
                assertNotNull(f.mount(), at);
                assertEquals("/data", f.mount().mountPoint(), at);
            }
            assertEquals(SCANS, reports.size());
            String text = metrics.render();
            // one stuck thread for the one stuck task and file, however many scans went by
            assertTrue(text.contains("execguard_blocked_reads{kind=\"cmdline\"} 1\n"), text);
            assertTrue(text.contains("execguard_blocked_reads{kind=\"cgroup\"} 0\n"), text);
        }
    }

    /** Replaces a file of the stuck task by a FIFO with no writer. */
    private Path block(String file) throws Exception {
        Path p = root.resolve("proc").resolve(Integer.toString(PID)).resolve(file);
        Files.delete(p);
        Process mk = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
        assertTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo failed");
        return p;
    }

    @Test
    void aCgroupReadThatNeverReturnsLeavesTheScopeUnknownNotNode() throws Exception {
        writeHost();
        releaseBlockedReaders(); // the cmdline FIFO of writeHost is not wanted here
        Files.delete(fifo);
        Files.writeString(fifo, "app\0");
        fifo = block("cgroup");
        Clock clock = Clock.fixed(Instant.parse("2026-11-23T10:00:00Z"), ZoneOffset.UTC);
        Metrics metrics = new Metrics();
        try (DeadlineReader slow = new DeadlineReader(Duration.ofMillis(20), 32)) {
            ProbeLoop loop = new ProbeLoop(ProbeConfig.fromEnv(Map.of("NODE_NAME", "node-1")),
                    new HostReader(new HostPaths(root), slow, clock)::read, new FindingTracker(),
                    () -> new PodIndex(List.of()), ProbePolicy::defaults, r -> { },
                    new Repairer(new ProcHostRepairs(root), "node-1"), metrics, clock);
            for (int scan = 1; scan <= 3; scan++) {
                ProbeReport r = loop.runOnce();
                Finding f = r.findings().stream().map(i -> i.tracked().finding())
                        .filter(x -> x.pid() != null && x.pid() == PID).findFirst().orElseThrow();
                assertEquals("Unknown", f.scope().name(), f::toString);
                assertTrue(f.containerId() == null && f.cgroup() == null, f::toString);
                assertFalse(f.message().contains("on the host"), f.message());
                // the mount is still named: mountinfo has its own budget and was read
                assertEquals("/data", f.mount().mountPoint(), f::toString);
            }
            assertTrue(metrics.render().contains("execguard_blocked_reads{kind=\"cgroup\"} 1\n"), metrics::render);
            assertEquals("1 deadline read blocked in the kernel (cgroup 1)", loop.healthDetail());
        }
    }
}
