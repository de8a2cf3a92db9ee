package io.execguard.repair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production host side effects against real files and real processes this test starts: the abort file
 * written under a host root, a signal reaching the child it was meant for and not a process with another start
 * time on the same PID.
 */
class ProcHostRepairsTest {

    @Test
    void abortWritesOneToTheConnectionsAbortFileUnderTheHostRoot(@TempDir Path root) throws IOException {
        Path conn = Files.createDirectories(root.resolve("sys/fs/fuse/connections/52"));
        Files.writeString(conn.resolve("abort"), "");
        new ProcHostRepairs(root).abortFuseConnection(52);
        assertEquals("1", Files.readString(conn.resolve("abort")));
        IOException gone = assertThrows(IOException.class, () -> new ProcHostRepairs(root).abortFuseConnection(53));
        assertTrue(gone.getMessage().contains("fuse connection 53 is gone"), gone.getMessage());
    }

    @Test
    void signalsOnlyTheProcessWithTheExpectedStartTime() throws Exception {
        Path proc = Path.of("/proc");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(proc.resolve("self")), "needs Linux /proc");
        Process child = new ProcessBuilder("sleep", "60").start();
        try {
            int pid = (int) child.pid();
            String stat = Files.readString(proc.resolve(pid + "/stat"));
            long start = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
            ProcHostRepairs host = new ProcHostRepairs(Path.of("/"));
            assertFalse(host.signal(pid, start + 1, "KILL"), "a different start time is a different process");
            assertTrue(child.isAlive());
            assertTrue(host.signal(pid, start, "HUP"));
            assertTrue(child.waitFor(10, TimeUnit.SECONDS), "SIGHUP did not end sleep");
            assertEquals(128 + 1, child.exitValue(), "not ended by SIGHUP");
            assertFalse(host.signal(pid, start, "KILL"), "reaped: nothing to signal");
        } finally {
            child.destroyForcibly();
        }
    }
}
