package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.bench.SyntheticHost;

/** The task detectors' messages claim only what the task's evidence shows. */
class TaskMessagesTest {

    static final String ID = PidsLimitMessagesTest.ID;
    static final String POD = PidsLimitMessagesTest.POD;

    private static Finding one(Path root, FindingType type) {
        List<Finding> fs = HostTrees.findings(root, type);
        assertEquals(1, fs.size(), () -> type + " expected once in " + HostTrees.findings(root));
        return fs.get(0);
    }

    @Test
    void unkillableWithoutSchedSaysUpToItsAgeNotHowLongSigkillWasPending(@TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "3.10.0-957.el7.x86_64");
        // No sched file (a kernel without CONFIG_SCHED_DEBUG): when it last ran is unknown.
        h.process(700, "backup").ppid(1).age(4_000).cmdline("backup").cgroup("0::/system.slice/backup.service")
                .main(t -> t.state('D').wchan("request_wait_answer").sigPnd(SyntheticHost.SIGKILL)
                        .stack("request_wait_answer+0x12f/0x210", "fuse_flush+0x16f/0x1b0"))
                .write();
        String m = one(root, FindingType.UnkillableTask).message();
        assertTrue(m.startsWith("pid 700 (backup) on the host has SIGKILL pending and has not run for up to 1h06m "
                + "(its age), waiting for a FUSE daemon's answer"), m);
        assertFalse(m.contains("pending for"), "nothing shows since when SIGKILL is pending: " + m);
        assertTrue(m.contains("so kill does not complete"), m);
        assertFalse(m.contains("pod deletion"), "a host task has no pod: " + m);
    }

    @Test
    void unkillableInAContainerNamesItAndHowLongItHasNotRun(@TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.process(701, "app").ppid(1).age(4_000).cmdline("app").cgroup("0::/docker/" + ID)
                .main(t -> t.state('D').wchan("fuse_flush").blockedFor(95).sigPnd(SyntheticHost.SIGKILL)
                        .stack("fuse_flush+0x16f/0x1b0", "filp_close+0x27/0x70"))
                .write();
        String m = one(root, FindingType.UnkillableTask).message();
        assertTrue(m.contains("of container " + ID.substring(0, 12) + " has SIGKILL pending and has not run for 1m35s"),
                m);
        assertTrue(m.contains("blocked in the FUSE client"), "no frame waits for the daemon's answer: " + m);
        assertTrue(m.contains("kill, docker kill and pod deletion do not complete"), m);
    }

    @Test
    void hungTaskOfAPodIsNotOnTheHost(@TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.process(702, "sync").ppid(1).age(4_000).cmdline("sync").cgroup("0::/kubepods/burstable/pod" + POD)
                .main(t -> t.state('D').wchan("io_schedule").blockedFor(300).stack("io_schedule+0x12/0x40"))
                .write();
        Finding f = one(root, FindingType.HungTask);
        assertEquals(Scope.Container, f.scope());
        assertTrue(f.message().startsWith("pid 702 (sync) of pod " + POD
                + " has been in uninterruptible sleep for 5m00s, waiting for block I/O"), f.message());
    }

    @Test
    void leakedSessionWithoutTerminalTimesDoesNotClaimAnIdleTime(@TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.process(800, "containerd-shim").ppid(1).age(80_000).cmdline("containerd-shim").write();
        h.process(801, "sh").ppid(800).age(7_200).nsPid(9).tty(34_820).cmdline("sh").cgroup("0::/docker/" + ID)
                .main(t -> t.wchan("n_tty_read").stack("n_tty_read+0x2f9/0x910")).write();
        String m = one(root, FindingType.LeakedExecSession).message();
        assertTrue(m.contains("has held a terminal for 2h00m, waiting to read its terminal"), m);
        assertFalse(m.contains("idle for"), m);
        assertFalse(m.contains("run out"), "nothing here shows ptys running out: " + m);
    }

    @Test
    void aStuckPipeWriterWithTheDefaultSoftLimitIsNotToldToRestoreIt(@TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.process(900, "runc").ppid(1).age(400).cmdline("runc", "exec", ID).write();
        h.process(901, "runc:[2:INIT]").ppid(900).age(390).cmdline("runc", "init").cgroup("0::/docker/" + ID)
                .main(t -> t.state('S').wchan("pipe_wait_writable").blockedFor(389)
                        .stack("pipe_wait_writable+0x8c/0xe0", "anon_pipe_write+0x1f9/0x540"))
                .write();
        String init = one(root, FindingType.StuckRuntimeInit).message();
        assertTrue(init.contains("blocked writing to a full pipe"), init);
        assertFalse(init.contains("nobody reads"), "no evidence about the reader: " + init);
        assertFalse(init.contains("restore"), "fs.pipe-user-pages-soft is at its default: " + init);
        assertFalse(init.contains("execs into this container hang"), "one stuck init: " + init);
        assertTrue(init.contains("the exec (or start) it was run for has not begun"), init);
        String pipe = one(root, FindingType.PipeBufferExhaustionRisk).message();
        assertTrue(pipe.startsWith("pid 901 (runc:[2:INIT]) is stuck writing a full pipe"), pipe);
        assertFalse(pipe.contains("restore"), pipe);
    }

    @Test
    void aLowSoftLimitSaysWhoGetsSmallPipes(@TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.sysctl("fs.pipe-user-pages-soft", "16");
        String m = one(root, FindingType.PipeBufferExhaustionRisk).message();
        assertTrue(m.startsWith("fs.pipe-user-pages-soft is 16 pages (default 16384): users without CAP_SYS_RESOURCE"),
                m);
        assertFalse(m.contains("one-page pipes"), "newer kernels give two pages: " + m);
        assertTrue(m.endsWith("restore fs.pipe-user-pages-soft to 16384."), m);
    }
}
