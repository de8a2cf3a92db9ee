package io.execguard.repair;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A process's identity check before it is signalled: PID plus start time, from {@code /proc/PID/stat}. */
final class ProcStart {

    private ProcStart() {
    }

    /** True when {@code procRoot/pid/stat} exists, is not a zombie, and has that start time. */
    static boolean matches(Path procRoot, int pid, long startTimeTicks) throws IOException {
        String stat;
        try {
            // stat of one's own process never blocks on the task's mm (unlike cmdline/environ)
            stat = new String(Files.readAllBytes(procRoot.resolve(Integer.toString(pid)).resolve("stat")),
                    StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return false;
        }
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IOException("garbled " + procRoot + "/" + pid + "/stat");
        }
        String[] f = stat.substring(close + 2).trim().split(" ");
        // after "pid (comm) ": f[0] is state (field 3), start time is field 22 → f[19]
        if (f.length < 20) {
            throw new IOException("short " + procRoot + "/" + pid + "/stat");
        }
        return !"Z".equals(f[0]) && !"X".equals(f[0]) && Long.parseLong(f[19]) == startTimeTicks;
    }
}
