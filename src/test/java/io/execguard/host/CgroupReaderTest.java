package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pids cgroup walk looks only into directories whose link count says they have subdirectories: it must
 * find what a walk of every entry finds ({@code Files.walk}, the walk it replaced), in the same order.
 */
class CgroupReaderTest {

    @TempDir
    Path root;

    @Test
    void findsWhatAWalkOfEveryEntryFindsInTheSameOrder() throws IOException {
        Path cg = root.resolve("sys/fs/cgroup");
        Files.createDirectories(cg);
        Files.writeString(cg.resolve("cgroup.controllers"), "cpu io memory pids\n");
        Random rnd = new Random(13);
        int[] made = {0};
        fill(cg, 0, rnd, made);
        List<String> warnings = new ArrayList<>();
        List<PidsCgroup> found = new CgroupReader(new HostPaths(root)).readPidsCgroups(warnings);
        List<PidsCgroup> expected = everyEntry(cg);
        assertTrue(expected.size() > 20, "the tree has cgroups with limits: " + expected.size());
        assertEquals(expected, found);
        assertEquals(List.of(), warnings);
    }

    @Test
    void goesSixteenLevelsDeepAsBefore() throws IOException {
        Path cg = root.resolve("sys/fs/cgroup");
        Files.createDirectories(cg);
        Files.writeString(cg.resolve("cgroup.controllers"), "pids\n");
        Path d = cg;
        for (int i = 1; i <= 18; i++) {
            d = d.resolve("l" + i);
            limit(d, i);
        }
        List<PidsCgroup> found = new CgroupReader(new HostPaths(root)).readPidsCgroups(new ArrayList<>());
        assertEquals(everyEntry(cg), found);
        assertEquals(16, found.size());
    }

    @Test
    void aCgroupFileSystemIsToldFromAnyOther() {
        assertFalse(CgroupReader.isCgroupfs(root), "a temporary directory is no cgroup mount");
        if (Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
            assertTrue(CgroupReader.isCgroupfs(Path.of("/sys/fs/cgroup")));
        }
        assertFalse(HostReader.isProcfs(root));
        if (Files.exists(Path.of("/proc/self/stat"))) {
            assertTrue(HostReader.isProcfs(Path.of("/proc")));
        }
    }

    private static void fill(Path dir, int depth, Random rnd, int[] made) throws IOException {
        for (String f : List.of("cgroup.procs", "cpu.max", "memory.current", "io.stat")) {
            Files.writeString(dir.resolve(f), "0\n");
        }
        if (depth > 0 && rnd.nextInt(3) > 0) {
            limit(dir, ++made[0]);
        } else if (depth > 0 && rnd.nextBoolean()) {
            Files.writeString(dir.resolve("pids.max"), "max\n");
            Files.writeString(dir.resolve("pids.events"), "max " + rnd.nextInt(2) + "\n");
            Files.writeString(dir.resolve("pids.current"), "3\n");
        }
        if (depth == 4) {
            return;
        }
        int children = depth == 0 ? 3 : rnd.nextInt(4);
        for (int i = 0; i < children; i++) {
            Path c = dir.resolve("cg" + depth + "-" + i + (rnd.nextBoolean() ? ".slice" : ".scope"));
            Files.createDirectory(c);
            fill(c, depth + 1, rnd, made);
        }
    }

    private static void limit(Path dir, int n) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("pids.max"), (100 + n) + "\n");
        Files.writeString(dir.resolve("pids.current"), n + "\n");
        Files.writeString(dir.resolve("pids.events"), "max 0\n");
    }

    /** The walk this replaced: every entry looked at, every directory read. */
    private static List<PidsCgroup> everyEntry(Path hierarchy) throws IOException {
        List<PidsCgroup> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.walk(hierarchy, 16)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                String max = read(dir.resolve("pids.max"));
                if (max == null) {
                    continue;
                }
                long limit = max.equals("max") ? -1 : Long.parseLong(max);
                long eventsMax = 0;
                String events = read(dir.resolve("pids.events"));
                if (events != null) {
                    for (String line : events.split("\n")) {
                        String[] kv = line.trim().split("\\s+");
                        if (kv.length == 2 && kv[0].equals("max")) {
                            eventsMax = Long.parseLong(kv[1]);
                        }
                    }
                }
                if (limit < 0 && eventsMax == 0) {
                    continue;
                }
                String current = read(dir.resolve("pids.current"));
                String rel = "/" + hierarchy.relativize(dir).toString();
                out.add(new PidsCgroup(rel, CgroupRef.ofPath(rel), current == null ? -1 : Long.parseLong(current),
                        limit, eventsMax));
            }
        }
        return out;
    }

    private static String read(Path p) throws IOException {
        return Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.UTF_8).trim() : null;
    }
}
