package io.execguard.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;
import io.execguard.host.HostUnreadableException;

/**
 * #12 point 8: garbled input at volume. Each mutation changes one path of a fixture tree (a whole /proc and
 * /sys): truncated, random bytes, a huge (sparse) file, a vanished directory, a symlink loop, a FIFO or a
 * directory where a regular file should be; the real HostReader (with its DeadlineReader) and the standard
 * detectors then scan it. Per mutation: no exception out of the scan (a HostUnreadableException for a tree
 * whose /proc itself was destroyed is the documented refusal, not a crash); the scan ends within its
 * deadlines (measured: at most {@value #SCAN_BOUND_MS} ms, the deadline reads being {@value #DEADLINE_MS} ms
 * each); and every finding of a task the mutation did not touch (another pid, not its parent) is still
 * reported. Seeded and deterministic: {@code -Dexecguard.fuzz.mutations=N -Dexecguard.fuzz.seed=S}; the
 * seed and the mutation are printed on failure.
 */
class ScanFuzzTest {

    static final long DEADLINE_MS = 100;
    /** Wall clock on a shared 2-core machine; a read that waited for its file would take forever. */
    static final long SCAN_BOUND_MS = 10_000;
    static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    enum Mutation { TRUNCATE, RANDOM_BYTES, HUGE, VANISH_DIR, SYMLINK_LOOP, FIFO, DIRECTORY }

    record Key(String type, Integer pid, Integer tid) {
    }

    @TempDir
    Path tmp;

    @Test
    void garbledTreesNeverCrashTheScanNorHideUntouchedFindings() throws Exception {
        int mutations = Integer.getInteger("execguard.fuzz.mutations", 2_000);
        long seed = Long.getLong("execguard.fuzz.seed", 20261123L);
        Random rnd = new Random(seed);
        List<Path> trees;
        try (Stream<Path> s = Files.list(FIXTURES)) {
            trees = s.filter(Files::isDirectory).sorted().toList();
        }
        List<Path> work = new ArrayList<>();
        List<Set<Key>> baseline = new ArrayList<>();
        List<List<Finding>> baseFindings = new ArrayList<>();
        List<List<Path>> files = new ArrayList<>();
        List<java.util.Map<Integer, Integer>> parents = new ArrayList<>();
        List<List<Path>> dirs = new ArrayList<>();
        for (Path t : trees) {
            parents.add(parents(t));
            Path w = tmp.resolve(t.getFileName().toString());
            copyTree(t, w);
            work.add(w);
            List<Finding> f = scan(w);
            baseFindings.add(f);
            baseline.add(keys(f));
            List<Path> fs = new ArrayList<>();
            List<Path> ds = new ArrayList<>();
            try (Stream<Path> s = Files.walk(t)) {
                s.filter(p -> !p.equals(t)).sorted().forEach(p -> {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        ds.add(t.relativize(p));
                    } else {
                        fs.add(t.relativize(p));
                    }
                });
            }
            files.add(fs);
            dirs.add(ds);
        }
        long worstMs = 0;
        int refused = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < mutations; i++) {
            int tree = rnd.nextInt(trees.size());
            Mutation m = Mutation.values()[rnd.nextInt(Mutation.values().length)];
            Path rel = m == Mutation.VANISH_DIR ? pick(dirs.get(tree), rnd) : pick(files.get(tree), rnd);
            Path target = work.get(tree).resolve(rel.toString());
            String what = "seed " + seed + ", mutation " + i + ": " + m + " of " + trees.get(tree).getFileName() + "/"
                    + rel;
            try {
                apply(m, target, rnd);
                long start = System.nanoTime();
                List<Finding> found;
                try {
                    found = scan(work.get(tree));
                } catch (HostUnreadableException e) {
                    refused++;
                    continue; // /proc (or uptime) itself destroyed: the scan refuses the tree, as documented
                } catch (RuntimeException | Error e) {
                    throw new AssertionError(what + ": the scan threw " + e, e);
                }
                long ms = (System.nanoTime() - start) / 1_000_000;
                worstMs = Math.max(worstMs, ms);
                if (ms > SCAN_BOUND_MS) {
                    fail(what + ": the scan took " + ms + " ms, beyond its deadlines");
                }
                Set<Key> now = keys(found);
                Set<Integer> touched = touchedPids(rel, baseFindings.get(tree), parents.get(tree));
                for (Key k : baseline.get(tree)) {
                    if (k.pid() != null && !touched.contains(k.pid()) && !now.contains(k)) {
                        fail(what + ": the untouched finding " + k + " is no longer reported; now " + now);
                    }
                }
            } finally {
                restore(trees.get(tree).resolve(rel.toString()), target);
            }
        }
        System.out.printf("[fuzz] seed %d: %d mutations of %d fixture trees in %d ms, 0 crashes, %d refused trees, "
                + "slowest scan %d ms (bound %d ms, deadline reads %d ms)%n", seed, mutations, trees.size(),
                (System.nanoTime() - t0) / 1_000_000, refused, worstMs, SCAN_BOUND_MS, DEADLINE_MS);
    }

    private static List<Finding> scan(Path root) {
        try (DeadlineReader slow = new DeadlineReader(Duration.ofMillis(DEADLINE_MS), 8)) {
            HostSnapshot s = new HostReader(new HostPaths(root), slow, Clock.systemUTC()).read();
            return DetectorSuite.standard(Thresholds.DEFAULTS).detect(s);
        }
    }

    private static Set<Key> keys(List<Finding> findings) {
        Set<Key> out = new TreeSet<>(Comparator.comparing(Key::toString));
        findings.forEach(f -> out.add(new Key(f.type().name(), f.pid(), f.tid())));
        return out;
    }

    /**
     * The tasks a mutation of {@code rel} may rightly change the findings of: under proc/PID, that process and
     * every task whose finding names it (its children: a parent's comm decides exec sessions; a namespace's
     * mount table is read through its first task); anything else (uptime, sysctls, cgroups, fusectl, the proc
     * directory itself) may change every finding, so all count as touched.
     */
    /** pid to ppid of every process of a pristine tree (field 4 of its stat). */
    private static java.util.Map<Integer, Integer> parents(Path tree) throws IOException {
        java.util.Map<Integer, Integer> out = new java.util.HashMap<>();
        try (Stream<Path> s = Files.list(tree.resolve("proc"))) {
            for (Path d : s.toList()) {
                Path stat = d.resolve("stat");
                if (d.getFileName().toString().matches("[0-9]+") && Files.isRegularFile(stat)) {
                    String t = Files.readString(stat);
                    String[] f = t.substring(t.lastIndexOf(')') + 2).split(" ");
                    out.put(Integer.parseInt(d.getFileName().toString()), Integer.parseInt(f[1]));
                }
            }
        }
        return out;
    }

    private static Set<Integer> touchedPids(Path rel, List<Finding> base, java.util.Map<Integer, Integer> parents) {
        Set<Integer> out = new TreeSet<>();
        if (rel.getNameCount() >= 2 && rel.getName(0).toString().equals("proc")
                && rel.getName(1).toString().matches("[0-9]+")) {
            int pid = Integer.parseInt(rel.getName(1).toString());
            out.add(pid);
            parents.forEach((child, parent) -> {
                if (parent == pid) {
                    out.add(child);
                }
            });
            for (Finding f : base) {
                if (f.pid() != null && f.message() != null && f.message().contains(Integer.toString(pid))) {
                    out.add(f.pid());
                }
            }
            // shared evidence: the same container or mount namespace
            base.stream().filter(f -> f.pid() != null && f.pid() == pid).forEach(f -> base.stream()
                    .filter(g -> g.pid() != null && f.containerId() != null && f.containerId().equals(g.containerId()))
                    .forEach(g -> out.add(g.pid())));
            return out;
        }
        base.stream().filter(f -> f.pid() != null).forEach(f -> out.add(f.pid()));
        return out;
    }

    private static Path pick(List<Path> paths, Random rnd) {
        return paths.get(rnd.nextInt(paths.size()));
    }

    private static void apply(Mutation m, Path target, Random rnd) throws IOException, InterruptedException {
        switch (m) {
            case TRUNCATE -> {
                if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                    try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
                        f.setLength(f.length() == 0 ? 0 : rnd.nextInt((int) Math.min(f.length(), Integer.MAX_VALUE)));
                    }
                }
            }
            case RANDOM_BYTES -> {
                byte[] b = new byte[rnd.nextInt(4096) + 1];
                rnd.nextBytes(b);
                delete(target);
                Files.write(target, b);
            }
            case HUGE -> {
                delete(target);
                try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
                    f.write("1 (x) D 1 1 1 0 ".getBytes());
                    f.setLength(1L << 32); // 4 GiB, sparse
                }
            }
            case VANISH_DIR -> delete(target);
            case SYMLINK_LOOP -> {
                delete(target);
                Files.createSymbolicLink(target, target.getFileName());
            }
            case FIFO -> {
                delete(target);
                Process p = new ProcessBuilder("mkfifo", target.toString()).start();
                if (p.waitFor() != 0) {
                    throw new IOException("mkfifo " + target + " failed");
                }
            }
            case DIRECTORY -> {
                delete(target);
                Files.createDirectories(target);
            }
        }
    }

    /** Puts the pristine path back; first releases any reader still blocked opening a FIFO there. */
    private static void restore(Path pristine, Path target) throws IOException {
        releaseFifos(target);
        delete(target);
        if (Files.exists(pristine, LinkOption.NOFOLLOW_LINKS)) {
            copyTree(pristine, target);
        }
    }

    private static void releaseFifos(Path target) throws IOException {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                && Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
            // O_RDWR on a FIFO never blocks on Linux, and it gives a reader blocked in open() its writer; closing
            // it then gives that reader end of file
            new RandomAccessFile(target.toFile(), "rw").close();
        }
    }

    private static void delete(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                    releaseFifos(q);
                    Files.delete(q);
                }
            }
        } else {
            Files.delete(p);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(to.getParent());
            Files.copy(from, to, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), LinkOption.NOFOLLOW_LINKS,
                        StandardCopyOption.REPLACE_EXISTING);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
