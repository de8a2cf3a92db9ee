package io.execguard.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds pids cgroups with a limit under {@code sys/fs/cgroup}, for cgroup v1 ({@code pids/}), v2
 * (unified at the root) and hybrid layouts ({@code unified/} beside v1 controllers).
 */
public final class CgroupReader {

    private static final int MAX_DEPTH = 16;
    private final HostPaths paths;

    public CgroupReader(HostPaths paths) {
        this.paths = paths;
    }

    /** {@code v2}, {@code hybrid}, {@code v1}, or {@code unknown}. */
    public String layout() {
        Path root = paths.cgroupRoot();
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            return "v2";
        }
        if (Files.exists(root.resolve("unified/cgroup.controllers"))) {
            return "hybrid";
        }
        if (Files.isDirectory(root.resolve("pids")) || Files.isDirectory(root.resolve("memory"))) {
            return "v1";
        }
        return "unknown";
    }

    /** Hierarchies that can hold {@code pids.max}. */
    List<Path> pidsHierarchies() {
        Path root = paths.cgroupRoot();
        List<Path> out = new ArrayList<>();
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            out.add(root);
            return out;
        }
        if (Files.isDirectory(root.resolve("pids"))) {
            out.add(root.resolve("pids"));
        }
        if (Files.exists(root.resolve("unified/cgroup.controllers"))) {
            out.add(root.resolve("unified"));
        }
        return out;
    }

    public List<PidsCgroup> readPidsCgroups(List<String> warnings) {
        List<PidsCgroup> out = new ArrayList<>();
        for (Path hierarchy : pidsHierarchies()) {
            try (Stream<Path> dirs = Files.walk(hierarchy, MAX_DEPTH)) {
                dirs.filter(Files::isDirectory).forEach(dir -> {
                    PidsCgroup c = readOne(hierarchy, dir, warnings);
                    if (c != null) {
                        out.add(c);
                    }
                });
            } catch (IOException | java.io.UncheckedIOException e) {
                warnings.add("cannot walk " + hierarchy + ": " + e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private static PidsCgroup readOne(Path hierarchy, Path dir, List<String> warnings) {
        String max = read(dir.resolve("pids.max"));
        if (max == null) {
            return null;
        }
        String events = read(dir.resolve("pids.events"));
        long limit;
        long eventsMax = 0;
        try {
            limit = max.equals("max") ? -1 : Long.parseLong(max);
            if (events != null) {
                for (String line : events.split("\n")) {
                    String[] kv = line.trim().split("\\s+");
                    if (kv.length == 2 && kv[0].equals("max")) {
                        eventsMax = Long.parseLong(kv[1]);
                    }
                }
            }
        } catch (NumberFormatException e) {
            warnings.add(dir + ": garbled pids.max or pids.events; skipped");
            return null;
        }
        if (limit < 0 && eventsMax == 0) {
            return null;
        }
        String current = read(dir.resolve("pids.current"));
        long cur;
        try {
            cur = current == null ? -1 : Long.parseLong(current);
        } catch (NumberFormatException e) {
            warnings.add(dir + ": garbled pids.current; skipped");
            return null;
        }
        String rel = "/" + hierarchy.relativize(dir).toString().replace('\\', '/');
        return new PidsCgroup(rel, CgroupRef.ofPath(rel), cur, limit, eventsMax);
    }

    /** A cgroup control file: only a regular file (a FIFO in its place would block), at most 64 KB of it. */
    private static String read(Path p) {
        if (!HostReader.isRegular(p)) {
            return null;
        }
        try (java.io.InputStream in = Files.newInputStream(p)) {
            return Bounded.read(in, 64 << 10).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
