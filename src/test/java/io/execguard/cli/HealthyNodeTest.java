package io.execguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.execguard.bench.BusyNode;
import io.execguard.bench.SyntheticHost;

/**
 * A busy, healthy node yields no finding: thousands of ordinary tasks, a runc init 0.3 s old, a 3 h
 * {@code tail -f} exec whose terminal was written seconds ago, a 2 s D-state read, kernel threads long in D.
 * Each control test moves one of them across its rule and expects exactly that finding, so the healthy
 * result cannot come from a tree the scanner does not read.
 */
class HealthyNodeTest {

    private static final int ORDINARY_TASKS = 6_000;
    private static final String POD = "3c1e9a52-7d4b-4f0e-9b6a-2e8d5c7f1a03";
    private static final String APP = "5e0d4c3b2a19f8e7d6c5b4a3928170f6e5d4c3b2a19f8e7d6c5b4a3928170f6e";

    /** Knobs that the control tests turn; the controls use a smaller busy part, it is not what they test. */
    record Tweaks(int ordinaryTasks, Duration terminalIdle, double runcInitAge, boolean schedExposed) {
        static final Tweaks HEALTHY = new Tweaks(ORDINARY_TASKS, Duration.ofSeconds(5), 0.3, true);

        static Tweaks control(Duration terminalIdle, double runcInitAge, boolean schedExposed) {
            return new Tweaks(800, terminalIdle, runcInitAge, schedExposed);
        }
    }

    /** Thousands of small files: under /dev/shm where there is one (a disk-backed /tmp is ten times slower). */
    private Path root;

    @BeforeEach
    void makeRoot() throws IOException {
        Path shm = Path.of("/dev/shm");
        root = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "execguard-test-")
                : Files.createTempDirectory("execguard-test-");
    }

    @AfterEach
    void deleteRoot() throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Pids of the interesting tasks. */
    record Pids(int runcInit, int tail, int io) {
    }

    static Pids build(Path root, Tweaks tw) {
        SyntheticHost h = SyntheticHost.create(root, SyntheticHost.CgroupLayout.V2, 26 * 86400.0);
        BusyNode.Populated busy = BusyNode.populate(h, tw.ordinaryTasks(), 300, 11);
        assertEquals(tw.ordinaryTasks(), busy.tasks());
        int a = busy.nextPid() + 100;
        String slice = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD.replace('-', '_')
                + ".slice";
        String cg = "0::" + slice + "/cri-containerd-" + APP + ".scope";
        h.process(a, "containerd-shim").ppid(1).age(4 * 3600).cmdline("/usr/bin/containerd-shim-runc-v2",
                "-namespace", "k8s.io", "-id", APP, "-address", "/run/containerd/containerd.sock")
                .idleThreads(a + 1, 9, false).write();
        h.process(a + 20, "node").ppid(a).age(4 * 3600 - 1).nsPid(1).cmdline("node", "server.js").cgroup(cg)
                .main(t -> t.wchan("ep_poll")).idleThreads(a + 21, 10, false).write();
        // kubectl exec in flight: runc exec and its init, 0.3 s old.
        h.process(a + 40, "runc").ppid(a).age(tw.runcInitAge() + 0.1).cmdline("runc", "--root", "/run/containerd/runc/k8s.io",
                "exec", "--process", "/tmp/runc-process31337", "--detach", APP)
                .idleThreads(a + 41, 5, false).write();
        h.process(a + 50, "runc:[2:INIT]").ppid(a + 40).age(tw.runcInitAge()).nsPid(7).cmdline("runc", "init")
                .cgroup(cg).main(t -> t.state('R').wchan("0")).write();
        // kubectl exec -it ... tail -f: 3 hours old, its terminal written seconds ago.
        h.process(a + 60, "tail").ppid(a).age(3 * 3600).nsPid(9).tty(34_816).cmdline("tail", "-f", "/var/log/app.log")
                .cgroup(cg).terminal(root.resolve("dev/pts/0"), Instant.now().minus(tw.terminalIdle()))
                .main(t -> t.wchan("inotify_read").stack("inotify_read+0x12c/0x2f0", "vfs_read+0xb4/0x390",
                        "ksys_read+0x67/0xe0", "do_syscall_64+0x82/0x190"))
                .write();
        // A database reading a page: in D for 2 s, alive for days.
        h.process(a + 80, "postgres").ppid(1).age(5 * 86400).cmdline("postgres", "-D", "/var/lib/postgresql/data")
                .cgroup("0::/system.slice/postgresql.service")
                .main(t -> {
                    t.state('D').wchan("folio_wait_bit_common").stack("folio_wait_bit_common+0x13f/0x350",
                            "filemap_get_pages+0x5a3/0x6a0", "filemap_read+0xdc/0x350", "vfs_read+0x26d/0x390",
                            "ksys_pread64+0x7a/0xb0", "do_syscall_64+0x82/0x190");
                    if (tw.schedExposed()) {
                        t.blockedFor(2.0);
                    }
                })
                .write();
        h.kernelThread(a + 90, "jbd2/nvme1n1p1-8", 'D', 25 * 86400.0);
        h.kernelThread(a + 91, "md127_raid1", 'D', 25 * 86400.0);
        h.pidsCgroup(slice + "/cri-containerd-" + APP + ".scope", 23, "4096", 0);
        return new Pids(a + 50, a + 60, a + 80);
    }

    @Test
    void busyHealthyNodeHasNoFinding() {
        build(root, Tweaks.HEALTHY);
        CliRun json = CliRun.scanJson(root);
        assertEquals(0, json.exitCode(), json::toString);
        assertEquals(List.of(), json.findings());
        JsonNode j = json.json();
        assertTrue(j.path("tasksScanned").asInt() >= ORDINARY_TASKS + 30, j.path("tasksScanned")::toString);
        assertEquals("v2", j.path("host").path("cgroupLayout").asText());
        assertEquals("", json.err());

        CliRun table = CliRun.run("scan", "--host-root", root.toString(), "--confirm-seconds", "0");
        assertEquals(0, table.exitCode(), table::toString);
        assertTrue(table.out().startsWith("No stuck exec or kill found on node-1"), table::toString);
    }

    @Test
    void controlStaleTerminalIsALeakedSession() {
        Pids p = build(root, Tweaks.control(Duration.ofHours(2), 0.3, true));
        CliRun r = CliRun.scanJson(root);
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.findings().size(), r::toString);
        JsonNode f = r.findings().get(0);
        assertEquals("LeakedExecSession", f.path("type").asText());
        assertEquals(p.tail(), f.path("pid").asInt());
        assertEquals(APP, f.path("containerId").asText());
        assertEquals(POD, f.path("podUid").asText());
    }

    @Test
    void controlOldRuncInitIsStuck() {
        Pids p = build(root, Tweaks.control(Duration.ofSeconds(5), 45, true));
        CliRun r = CliRun.scanJson(root);
        assertEquals(1, r.findings().size(), r::toString);
        JsonNode f = r.findings().get(0);
        assertEquals("StuckRuntimeInit", f.path("type").asText());
        assertEquals(p.runcInit(), f.path("pid").asInt());
        assertEquals(POD, f.path("podUid").asText());
    }

    @Test
    void controlWithoutSchedTheDStateReadCountsFromProcessAge() {
        Pids p = build(root, Tweaks.control(Duration.ofSeconds(5), 0.3, false));
        CliRun r = CliRun.scanJson(root);
        assertEquals(1, r.findings().size(), r::toString);
        JsonNode f = r.findings().get(0);
        assertEquals("HungTask", f.path("type").asText());
        assertEquals("BlockIo", f.path("cause").asText());
        assertEquals(p.io(), f.path("pid").asInt());
        assertEquals("Node", f.path("scope").asText());
    }
}
