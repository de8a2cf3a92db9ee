package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcWalkTest {

    private static final String STAT = "12 (sh) S 1 12 12 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 2 0 500 0 0\n";

    @Test
    void theNioWalkListsProcessesAndTheirOtherTasksAndSaysWhatIsGoneOrUnreadable(@TempDir Path proc) throws Exception {
        Files.createDirectories(proc.resolve("12/task/12"));
        Files.createDirectories(proc.resolve("12/task/13"));
        Files.writeString(proc.resolve("12/stat"), STAT);
        Files.writeString(proc.resolve("12/task/12/stat"), STAT);
        Files.writeString(proc.resolve("12/task/13/stat"), STAT.replace("12 (sh)", "13 (sh)"));
        Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(proc.resolve("14/stat")); // a directory where the file belongs
        Files.createDirectories(proc.resolve("15"));      // exited: no stat
        byte[] buf = new byte[4096];
        List<Integer> pids = new ArrayList<>();
        try (ProcWalk walk = ProcWalks.open(proc, false, buf)) {
            assertEquals("NioProcWalk", walk.getClass().getSimpleName(), "a tree that is not procfs walks with NIO");
            for (int pid = walk.nextPid(); pid >= 0; pid = walk.nextPid()) {
                pids.add(pid);
            }
            pids.sort(null);
            assertEquals(List.of(12, 14, 15), pids, "numbered entries only");
            int len = walk.readStat(12);
            assertEquals(STAT, new String(buf, 0, len, StandardCharsets.US_ASCII));
            assertEquals(ProcWalk.UNREADABLE, walk.readStat(14));
            assertEquals(ProcWalk.GONE, walk.readStat(15));
            assertEquals(1, walk.listTasks(12), "the process's own task is not listed again");
            assertEquals(13, walk.tid(0));
            assertEquals(13, ProcStat.parse(buf, walk.readTaskStat(0)).tid());
            assertEquals(-1, walk.listTasks(15), "no task directory: gone");
        }
    }

    /**
     * On Java 22+ the jar walks a procfs through the foreign-function API (src/main/java22). Surefire runs this
     * module's classes, not the jar, so {@link ProcWalkCheck} runs in a JVM of the jar's class layout
     * ({@link Java22Child}) and compares that walk with NIO's.
     */
    @Test
    void onJava22TheNativeWalkOfTheRealProcReadsWhatNioReads() throws Exception {
        assumeTrue(Runtime.version().feature() >= 22, "the foreign-function walk is built for Java 22+ only");
        String text = Java22Child.run(ProcWalkCheck.class, "NativeProcWalk");
        assertTrue(text.contains("walk NativeProcWalk "), text);
    }
}
