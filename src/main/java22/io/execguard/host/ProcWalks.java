package io.execguard.host;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Opens the {@link ProcWalk} this runtime has: the Java 22+ version of this class (the jar is multi-release; the
 * Java 21 version in {@code src/main/java} always walks with NIO). A procfs is walked through the foreign-function
 * API ({@link NativeProcWalk}); a fixture tree, or a libc without one of its calls, with {@link NioProcWalk}.
 */
final class ProcWalks {

    private ProcWalks() {
    }

    /**
     * Opens {@code proc} for one scan, reading into {@code buf}. Throws {@link java.nio.file.NoSuchFileException}
     * when it does not exist, another {@link IOException} when it cannot be listed.
     */
    static ProcWalk open(Path proc, boolean procfs, byte[] buf) throws IOException {
        return procfs && NativeProcWalk.available() ? new NativeProcWalk(proc, buf) : new NioProcWalk(proc, procfs, buf);
    }

    /** How this runtime walks {@code proc}, for the probe's start-up log. */
    static String mechanism() {
        return (NativeProcWalk.available() ? "openat/getdents64/read via the foreign-function API on procfs, NIO elsewhere"
                : "NIO (the foreign-function calls could not be linked)") + " (Java " + Runtime.version().feature() + ")";
    }
}
