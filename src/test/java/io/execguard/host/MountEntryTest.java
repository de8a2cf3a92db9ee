package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class MountEntryTest {

    @Test
    void fuseMountWithOptionalFields() {
        MountEntry m = MountEntry.parse("1401 1391 0:46 / /data rw,nosuid,nodev,relatime master:307 - fuse.bindfs "
                + "/root/lab/mntA rw,user_id=0,group_id=0,default_permissions,allow_other");
        assertEquals(0, m.major());
        assertEquals(46, m.minor());
        assertEquals("/", m.root());
        assertEquals("/data", m.mountPoint());
        assertEquals("fuse.bindfs", m.fsType());
        assertEquals("/root/lab/mntA", m.source());
        assertTrue(m.isFuse());
    }

    @Test
    void noOptionalFieldsAndSeveralOfThem() {
        MountEntry plain = MountEntry.parse("23 22 0:21 / /proc rw,relatime - proc proc rw");
        assertEquals("proc", plain.fsType());
        assertFalse(plain.isFuse());
        MountEntry many = MountEntry.parse("30 22 0:27 / /sys/fs/cgroup ro shared:9 master:3 propagate_from:2 - tmpfs "
                + "tmpfs ro,mode=755");
        assertEquals("/sys/fs/cgroup", many.mountPoint());
        assertEquals("tmpfs", many.fsType());
    }

    @Test
    void octalEscapesInPathsAreDecoded() {
        MountEntry m = MountEntry.parse("612 22 0:45 /sub\\040dir /mnt/my\\040disk\\011tab rw - fuse.sshfs "
                + "user@host:/with\\134backslash rw");
        assertEquals("/sub dir", m.root());
        assertEquals("/mnt/my disk\ttab", m.mountPoint());
        assertEquals("user@host:/with\\backslash", m.source());
        assertEquals("a\\09b", MountEntry.unescape("a\\09b"), "not three octal digits: kept");
    }

    @Test
    void cephSourceAndFuseblk() {
        MountEntry ceph = MountEntry.parse("1410 1391 0:167 /volumes/x /data rw,relatime - ceph "
                + "10.72.8.11:6789,10.72.8.12:6789:/volumes/x rw,name=admin");
        assertEquals("ceph", ceph.fsType());
        assertEquals("10.72.8.11:6789,10.72.8.12:6789:/volumes/x", ceph.source());
        assertTrue(MountEntry.parse("40 22 8:17 / /mnt/ntfs rw - fuseblk /dev/sdb1 rw").isFuse());
    }

    @Test
    void parseAllSkipsBlankLines() {
        List<MountEntry> all = MountEntry.parseAll("23 22 0:21 / /proc rw - proc proc rw\n\n"
                + "24 22 0:22 / /sys rw - sysfs sysfs rw\n");
        assertEquals(2, all.size());
    }

    @Test
    void brokenLinesSayWhatIsWrong() {
        assertTrue(assertThrows(ProcParseException.class, () -> MountEntry.parse("23 22 0:21 / /proc rw proc proc rw"))
                .getMessage().contains("' - fstype source'"));
        assertTrue(assertThrows(ProcParseException.class, () -> MountEntry.parse("23 22 021 / /proc rw - proc proc rw"))
                .getMessage().contains("major:minor"));
        assertTrue(assertThrows(ProcParseException.class, () -> MountEntry.parse("23 22 a:b / /proc rw - proc proc rw"))
                .getMessage().contains("not numeric"));
        assertThrows(ProcParseException.class, () -> MountEntry.parse("23 22 0:21 / /proc rw -"));
    }
}
