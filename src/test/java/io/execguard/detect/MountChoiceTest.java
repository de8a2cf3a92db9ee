package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.execguard.bench.SyntheticHost;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;

/**
 * Issue #12, point 3: a task in the host mount namespace, which holds three mounts of the filesystem its
 * stack names, is blocked on one of them. The finding names the one the task's own evidence points at
 * (an open file's {@code mnt_id}, its cwd), and no mount at all without such evidence, never merely the
 * first of that type in mountinfo order.
 */
class MountChoiceTest {

    static final int PID = 7000;
    static final String HOST_MOUNTS = "22 1 253:1 / / rw,relatime shared:1 - xfs /dev/vda1 rw\n"
            + "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
            + "27 22 0:25 / /run rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,mode=755\n";

    /** One filesystem kind: three mounts of it (ids 101, 102, 103 at /mnt/a, /mnt/b, /mnt/c) and a stack. */
    enum Fs {
        NFS("nfs4", new String[] {"10.0.0.1:/a", "10.0.0.2:/b", "10.0.0.3:/c"}, "rpc_wait_bit_killable",
                "rpc_wait_bit_killable+0x1e/0x90", "__rpc_execute+0x11c/0x3c0", "rpc_run_task+0x136/0x180",
                "nfs4_call_sync_sequence+0x6b/0xa0", "_nfs4_proc_getattr+0xb8/0xd0", "nfs4_proc_getattr+0x5e/0x110",
                "__nfs_revalidate_inode+0xd6/0x2e0", "nfs_getattr+0x1a0/0x3a0", "vfs_statx+0x9a/0x120"),
        CIFS("cifs", new String[] {"//fs1/a", "//fs2/b", "//fs3/c"}, "wait_for_response",
                "wait_for_response+0x9a/0xd0", "compound_send_recv+0x6a5/0xbd0", "smb2_query_info_compound+0x2a6/0x4d0",
                "smb2_queryfs+0x66/0x120", "cifs_statfs+0xc6/0x1e0", "statfs_by_dentry+0x67/0x90"),
        CEPH("ceph", new String[] {"10.0.0.1:6789:/a", "10.0.0.2:6789:/b", "10.0.0.3:6789:/c"},
                "ceph_mdsc_do_request", "ceph_mdsc_do_request+0x1e4/0x3b0", "__ceph_do_getattr+0xc1/0x200",
                "ceph_getattr+0x2c/0x100", "vfs_statx+0x9a/0x120"),
        FUSE("fuse.sshfs", new String[] {"u@h1:/a", "u@h2:/b", "u@h3:/c"}, "request_wait_answer",
                "request_wait_answer+0x12f/0x210", "fuse_simple_request+0x1a0/0x2f0", "fuse_do_getattr+0xf1/0x2f0",
                "fuse_getattr+0xa3/0xf0", "vfs_statx+0x9a/0x120");

        final String type;
        final String[] sources;
        final String wchan;
        final String[] stack;

        Fs(String type, String[] sources, String wchan, String... stack) {
            this.type = type;
            this.sources = sources;
            this.wchan = wchan;
            this.stack = stack;
        }

        String mountinfo() {
            StringBuilder b = new StringBuilder(HOST_MOUNTS);
            for (int i = 0; i < 3; i++) {
                b.append(101 + i).append(" 22 0:").append(61 + i).append(" / /mnt/").append((char) ('a' + i))
                        .append(" rw,relatime shared:").append(40 + i).append(" - ").append(type).append(' ')
                        .append(sources[i]).append(" rw\n");
            }
            return b.toString();
        }
    }

    @TempDir
    Path root;

    private Path writeHost(Fs fs) {
        SyntheticHost h = SyntheticHost.create(root, SyntheticHost.CgroupLayout.V2, 86_400);
        h.process(1, "systemd").ppid(0).cmdline("/sbin/init").cgroup("0::/init.scope").mntNs("mnt:[4026531840]")
                .mountinfo(fs.mountinfo()).main(t -> t.wchan("ep_poll").stack("ep_poll+0x2aa/0x370")).write();
        h.process(PID, "backup").ppid(1).age(7200).cmdline("backup", "--all").cgroup("0::/system.slice/backup.service")
                .mntNs("mnt:[4026531840]").mountinfo(fs.mountinfo())
                .main(t -> t.state('D').wchan(fs.wchan).stack(fs.stack).blockedFor(900)).write();
        if (fs == Fs.FUSE) {
            // every connection has a request waiting (other tasks are stuck too): the counts name no mount
            h.fuseConnection(61, 1).fuseConnection(62, 1).fuseConnection(63, 1);
        }
        return root.resolve("proc").resolve(Integer.toString(PID));
    }

    private static void link(Path link, String target) throws Exception {
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, Path.of(target));
    }

    /** An open file: {@code fd/N} and {@code fdinfo/N} as the kernel shows them. */
    private static void openFile(Path pidDir, int fd, String path, int mntId) throws Exception {
        link(pidDir.resolve("fd").resolve(Integer.toString(fd)), path);
        Files.createDirectories(pidDir.resolve("fdinfo"));
        Files.writeString(pidDir.resolve("fdinfo").resolve(Integer.toString(fd)),
                "pos:\t4096\nflags:\t0100002\nmnt_id:\t" + mntId + "\nino:\t1835011\n");
    }

    private MountRef mountOfTheFinding() {
        try (DeadlineReader slow = new DeadlineReader(Duration.ofSeconds(2), 8)) {
            var snapshot = new HostReader(new HostPaths(root), slow, Clock.systemUTC()).read();
            List<Finding> fs = DetectorSuite.standard(Thresholds.DEFAULTS).detect(snapshot);
            Finding f = fs.stream().filter(x -> x.pid() != null && x.pid() == PID).findFirst().orElse(null);
            assertNotNull(f, fs::toString);
            assertEquals(FindingType.HungTask, f.type(), f::toString);
            if (f.mount() != null) {
                assertFalse(f.message().isEmpty());
            }
            return f.mount();
        }
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void anOpenFilesMountIdNamesTheSecondMount(Fs fs) throws Exception {
        Path pid = writeHost(fs);
        openFile(pid, 0, "/dev/null", 23);
        openFile(pid, 3, "/var/log/backup.log", 22); // on the root filesystem: not a candidate
        openFile(pid, 4, "/mnt/b/db/dump.tar", 102);
        link(pid.resolve("cwd"), "/root");
        MountRef m = mountOfTheFinding();
        assertNotNull(m, "the task's open file is on /mnt/b");
        assertEquals("/mnt/b", m.mountPoint());
        assertEquals(fs.sources[1], m.source());
        assertEquals(fs.type, m.fsType());
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void theCwdNamesTheSecondMount(Fs fs) throws Exception {
        Path pid = writeHost(fs);
        link(pid.resolve("cwd"), "/mnt/b/work/2026");
        MountRef m = mountOfTheFinding();
        assertNotNull(m, "the task's cwd is under /mnt/b");
        assertEquals("/mnt/b", m.mountPoint());
        assertEquals(fs.sources[1], m.source());
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void withoutEvidenceNoMountIsNamed(Fs fs) {
        writeHost(fs);
        assertNull(mountOfTheFinding(), "three " + fs.type + " mounts and nothing of the task's on any of them");
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void evidenceOnTwoOfThemNamesNone(Fs fs) throws Exception {
        Path pid = writeHost(fs);
        openFile(pid, 3, "/mnt/a/x", 101);
        link(pid.resolve("cwd"), "/mnt/c");
        assertNull(mountOfTheFinding(), "the task uses /mnt/a and /mnt/c: which one blocks is not known");
    }

    @Test
    void theStacksFilesystemVersionNarrowsTheCandidates() throws Exception {
        // /mnt/a is NFSv3 (type nfs), /mnt/b NFSv4 (nfs4), /mnt/c NFSv3: the stack's nfs4_* frames say which
        writeHost(Fs.NFS);
        for (Path mi : List.of(root.resolve("proc/1/mountinfo"), root.resolve("proc/" + PID + "/mountinfo"))) {
            Files.writeString(mi, Files.readString(mi).replace("- nfs4 10.0.0.1", "- nfs 10.0.0.1")
                    .replace("- nfs4 10.0.0.3", "- nfs 10.0.0.3"));
        }
        MountRef m = mountOfTheFinding();
        assertNotNull(m);
        assertEquals("/mnt/b", m.mountPoint());
        assertEquals("nfs4", m.fsType());
    }

    @Test
    void onOldKernelsWithoutMntIdAnOpenFilesPathNamesItsMount() throws Exception {
        Path pid = writeHost(Fs.CEPH);
        link(pid.resolve("fd").resolve("5"), "/mnt/b/journal (deleted)");
        Files.createDirectories(pid.resolve("fdinfo"));
        Files.writeString(pid.resolve("fdinfo/5"), "pos:\t0\nflags:\t0100002\n"); // 3.10: no mnt_id line
        MountRef m = mountOfTheFinding();
        assertNotNull(m);
        assertEquals("/mnt/b", m.mountPoint());
    }

    @Test
    void ofAStackOfBusyFuseMountsTheUpperOneIsNamedWithoutTaskEvidence() throws Exception {
        // /mnt/b is a bindfs of /mnt/a: b's daemon waits on a, so both connections have a request waiting
        Path pid = writeHost(Fs.FUSE);
        String stacked = HOST_MOUNTS + "101 22 0:61 / /mnt/a rw - fuse.bindfs /srv/src rw\n"
                + "102 22 0:62 / /mnt/b rw - fuse.bindfs /mnt/a rw\n";
        Files.writeString(root.resolve("proc/1/mountinfo"), stacked);
        Files.writeString(pid.resolve("mountinfo"), stacked);
        Files.writeString(root.resolve("sys/fs/fuse/connections/63/waiting"), "0\n");
        MountRef m = mountOfTheFinding();
        assertNotNull(m);
        assertEquals("/mnt/b", m.mountPoint());
        assertEquals(62, m.fuseConnection());
    }
}
