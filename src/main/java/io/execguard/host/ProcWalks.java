package io.execguard.host;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Opens the {@link ProcWalk} this runtime has: the Java 21 version of this class (NIO). The Java 22+ version in
 * {@code src/main/java22} walks a procfs through the foreign-function API.
 */
final class ProcWalks {

    private ProcWalks() {
    }

    /**
     * Opens {@code proc} for one scan, reading into {@code buf}. Throws {@link java.nio.file.NoSuchFileException}
     * when it does not exist, another {@link IOException} when it cannot be listed.
     */
    static ProcWalk open(Path proc, boolean procfs, byte[] buf) throws IOException {
        return new NioProcWalk(proc, procfs, buf);
    }

    /** How this runtime walks {@code proc}, for the probe's start-up log. */
    static String mechanism() {
        return "NIO (Java " + Runtime.version().feature() + ")";
    }
}
