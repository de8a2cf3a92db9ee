package io.execguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where synthetic trees are written (hundreds of MB under /dev/shm at 50,000 tasks), so that none outlives its
 * process on any exit path: each tree is deleted by its caller's {@code finally} (normal end, exceptions, an
 * {@link OutOfMemoryError} that is thrown), by a shutdown hook (SIGTERM, Ctrl-C, {@code System.exit}), and — for
 * the exits that run neither, SIGKILL or {@code -XX:+ExitOnOutOfMemoryError} — by the next run, which deletes
 * every {@code execguard-*-<pid>-*} tree whose process is gone. The pid in the name is what makes that safe with
 * several runs at once.
 */
public final class ScratchTrees implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScratchTrees.class);
    /** {@code execguard-bench-1234-567890}, {@code execguard-measure-1234} (hack/measure-probe.sh). */
    static final Pattern NAME = Pattern.compile("execguard-(?:bench|measure|soak)-(\\d+)(?:-.*)?");

    private final Path base;
    private final String prefix;
    private final Set<Path> live = ConcurrentHashMap.newKeySet();
    private final Thread hook;

    /** @param prefix e.g. {@code bench}: trees are named {@code execguard-bench-<pid>-<n>} */
    public ScratchTrees(Path base, String prefix) {
        this.base = base;
        this.prefix = prefix;
        this.hook = new Thread(this::deleteAll, "execguard-scratch-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** /dev/shm when writable (tmpfs, like procfs: no disk I/O), else java.io.tmpdir. */
    public static Path defaultBase() {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** Deletes the trees of earlier runs whose process no longer exists; returns what it deleted. */
    public static List<Path> sweepStale(Path base) {
        List<Path> gone = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base, "execguard-*")) {
            for (Path p : ds) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(p)) {
                    continue;
                }
                long pid = Long.parseLong(m.group(1));
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) {
                    deleteTree(p);
                    gone.add(p);
                    LOG.info("deleted {}, left behind by process {} (killed, or exited on OutOfMemoryError)", p, pid);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot sweep stale trees under {}: {}", base, e.toString());
        }
        return gone;
    }

    /** A new empty directory for one tree, deleted by {@link #delete} or at exit at the latest. */
    public Path create() {
        try {
            Path dir = Files.createTempDirectory(base, "execguard-" + prefix + "-" + ProcessHandle.current().pid() + "-");
            live.add(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void delete(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.toString());
        } finally {
            live.remove(dir);
        }
    }

    private void deleteAll() {
        for (Path p : List.copyOf(live)) {
            delete(p);
        }
    }

    @Override
    public void close() {
        deleteAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
