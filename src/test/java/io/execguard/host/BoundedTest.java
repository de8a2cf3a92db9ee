package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel files must be read by plain reads: on a regular file without llseek (fusectl's waiting) the JDK's
 * readNBytes asks for the position and size first and fails with ESPIPE — the probe then saw no FUSE connection
 * at all (found by ExecLoopNodeIT: no abortStuckFuse repair). A FIFO here: it cannot seek either.
 */
class BoundedTest {

    @TempDir
    Path dir;

    private Path fifoWith(String content) throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CompletableFuture.runAsync(() -> {
            try (OutputStream out = Files.newOutputStream(fifo)) {
                out.write(content.getBytes());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        return fifo;
    }

    @Test
    void readsAFileThatCannotSeek() throws Exception {
        try (InputStream in = Files.newInputStream(fifoWith("2\n"))) {
            assertEquals("2\n", Bounded.read(in, 1 << 20));
        }
    }

    @Test
    void readsAtMostTheLimit() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "x".repeat(10_000));
        try (InputStream in = Files.newInputStream(f)) {
            assertEquals(4096, Bounded.read(in, 4096).length());
        }
    }
}
