package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.Thresholds;
import io.execguard.fixtures.Scenarios;

/**
 * A {@code stack} or {@code wchan} read that never answers (a FIFO with no writer where the file should
 * be, as a stack read waiting on a task's exec lock would) does not hold up the scan beyond its deadline,
 * and the finding is the same as when the file is simply missing.
 */
class BlockingReadTest {

    private static final Duration DEADLINE = Duration.ofMillis(300);
    private final List<Path> fifos = new ArrayList<>();

    @AfterEach
    void releaseStuckReaders() throws IOException {
        // O_RDWR never blocks on a FIFO; it gives the abandoned reader a writer, and closing it gives EOF.
        for (Path f : fifos) {
            try (RandomAccessFile w = new RandomAccessFile(f.toFile(), "rw")) {
                w.getFD().sync();
            } catch (IOException e) {
                // already gone
            }
        }
    }

    private static Path labTree(Path dir) {
        Scenarios.ALL.stream().filter(s -> s.name().equals("lab-exec-fuse")).findFirst().orElseThrow().write(dir);
        return dir;
    }

    private void mkfifo(Path file) throws Exception {
        Files.deleteIfExists(file);
        Process p = new ProcessBuilder("mkfifo", file.toString()).redirectErrorStream(true).start();
        assumeTrue(p.waitFor() == 0, "mkfifo is needed for this test");
        fifos.add(file);
    }

    private record Scan(HostSnapshot snapshot, List<Finding> findings, long millis) {
    }

    private static Scan scan(Path root) {
        try (DeadlineReader slow = new DeadlineReader(DEADLINE, 8)) {
            long start = System.nanoTime();
            HostSnapshot s = new HostReader(new HostPaths(root), slow, Clock.systemUTC()).read();
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new Scan(s, DetectorSuite.standard(Thresholds.DEFAULTS).detect(s), millis);
        }
    }

    private static Finding init(Scan s) {
        List<Finding> fs = s.findings().stream().filter(f -> f.pid() != null && f.pid() == 6011).toList();
        assertEquals(1, fs.size(), () -> "one finding for the stuck runc init: " + s.findings());
        return fs.get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stack", "wchan"})
    void aReadThatNeverAnswersCostsOneDeadlineAndNoEvidenceItDidNotBlock(String file, @TempDir Path a,
                                                                         @TempDir Path b) throws Exception {
        Path missing = labTree(a);
        Files.delete(missing.resolve("proc/6011/task/6011").resolve(file));
        Finding without = init(scan(missing));

        Path blocking = labTree(b);
        mkfifo(blocking.resolve("proc/6011/task/6011").resolve(file));
        Scan s = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> scan(blocking),
                "the scan blocked on " + file);
        assertTrue(s.millis() < DEADLINE.toMillis() + 2_000, "took " + s.millis() + " ms");
        Finding with = init(s);
        assertEquals(without.type(), with.type());
        assertEquals(without.severity(), with.severity());
        assertEquals(without.cause(), with.cause());
        assertEquals(without.containerId(), with.containerId());
        assertEquals(without.mount(), with.mount());
        assertTrue(s.snapshot().warnings().stream().anyMatch(w -> w.contains("6011/task/6011/" + file)
                && w.contains("timed out")), () -> "the timeout is reported: " + s.snapshot().warnings());
    }
}
