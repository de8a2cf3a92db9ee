package io.execguard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchTreesTest {

    /** A tree whose process is gone (SIGKILL, -XX:+ExitOnOutOfMemoryError) is deleted by the next run; live ones not. */
    @Test
    void sweepsOnlyTheTreesOfProcessesThatAreGone(@TempDir Path base) throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long dead = p.pid();
        Path orphan = Files.createDirectories(base.resolve("execguard-bench-" + dead + "-123/proc/1"));
        Files.writeString(orphan.resolve("stat"), "1 (x) S");
        Path measure = Files.createDirectories(base.resolve("execguard-measure-" + dead + "-10000"));
        Path alive = Files.createDirectories(base.resolve("execguard-bench-1-456")); // pid 1 exists
        Path mine = Files.createDirectories(base.resolve("execguard-bench-" + ProcessHandle.current().pid() + "-7"));
        Path other = Files.createDirectories(base.resolve("execguard-something-else"));
        List<Path> gone = ScratchTrees.sweepStale(base);
        assertEquals(2, gone.size(), gone.toString());
        assertFalse(Files.exists(base.resolve("execguard-bench-" + dead + "-123")));
        assertFalse(Files.exists(measure));
        assertTrue(Files.exists(alive) && Files.exists(mine) && Files.exists(other));
    }

    @Test
    void treesAreDeletedOnCloseAndNamedAfterThisProcess(@TempDir Path base) throws Exception {
        Path dir;
        try (ScratchTrees trees = new ScratchTrees(base, "bench")) {
            dir = trees.create();
            Files.createDirectories(dir.resolve("proc/42/task/42"));
            assertTrue(dir.getFileName().toString().startsWith("execguard-bench-" + ProcessHandle.current().pid() + "-"));
            assertTrue(ScratchTrees.NAME.matcher(dir.getFileName().toString()).matches());
        }
        assertFalse(Files.exists(dir), "deleted when the run ends, whatever ended it");
    }
}
