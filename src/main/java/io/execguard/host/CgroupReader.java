package io.execguard.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds pids cgroups with a limit under {@code sys/fs/cgroup}, for cgroup v1 ({@code pids/}), v2
 * (unified at the root) and hybrid layouts ({@code unified/} beside v1 controllers). Not thread-safe: one
 * per scan.
 */
public final class CgroupReader {

    private static final int MAX_DEPTH = 16;
    private final HostPaths paths;
    /** Whether the hierarchy being walked is a cgroup mount (see {@link #read}). */
    private boolean cgroupfs;
    private ByteBuffer buf;

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

    /**
     * Every cgroup with a pids limit (or a pids.events max count), depth first in directory order (as
     * {@code Files.walk} lists them), at most {@value #MAX_DEPTH} levels deep.
     *
     * <p>A cgroup directory holds dozens of control files and few or no child cgroups; a node has one cgroup per
     * container and pod. Looking at every entry (one {@code stat} each, as {@code Files.walk} does) was most of
     * this walk's system calls, so a directory is only listed when its link count says it has subdirectories
     * (every directory's {@code nlink} is 2 + its subdirectories on cgroupfs, tmpfs and ext4; a file system
     * that does not count them, as btrfs with 1, is listed), and each entry is looked at once (mode and link
     * count from one {@code stat}). Symbolic links are not followed into (as {@code Files.walk}); one that
     * points at a directory is read as a cgroup where it sits beside other subdirectories.
     */
    public List<PidsCgroup> readPidsCgroups(List<String> warnings) {
        List<PidsCgroup> out = new ArrayList<>();
        for (Path hierarchy : pidsHierarchies()) {
            cgroupfs = isCgroupfs(hierarchy);
            try {
                Map<String, Object> a = Files.readAttributes(hierarchy, "unix:nlink");
                add(out, readOne(hierarchy, hierarchy, warnings));
                walk(hierarchy, hierarchy, ((Number) a.get("nlink")).intValue(), 1, out, warnings);
            } catch (IOException | RuntimeException e) {
                warnings.add("cannot walk " + hierarchy + ": " + e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private static void add(List<PidsCgroup> out, PidsCgroup c) {
        if (c != null) {
            out.add(c);
        }
    }

    /** The cgroups under {@code dir}, whose entries are {@code depth} levels under the hierarchy. */
    private void walk(Path hierarchy, Path dir, int nlink, int depth, List<PidsCgroup> out, List<String> warnings) {
        if (depth > MAX_DEPTH || nlink == 2) {
            return; // too deep, or no subdirectory
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                Map<String, Object> a;
                try {
                    a = Files.readAttributes(e, "unix:mode,nlink", LinkOption.NOFOLLOW_LINKS);
                } catch (IOException | RuntimeException gone) {
                    continue; // removed since it was listed (a pod that went away)
                }
                int type = ((Number) a.get("mode")).intValue() & S_IFMT;
                if (type == S_IFDIR) {
                    add(out, readOne(hierarchy, e, warnings));
                    walk(hierarchy, e, ((Number) a.get("nlink")).intValue(), depth + 1, out, warnings);
                } else if (type == S_IFLNK && Files.isDirectory(e)) {
                    add(out, readOne(hierarchy, e, warnings));
                }
            }
        } catch (NoSuchFileException e) {
            // removed since its parent was listed
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            warnings.add("cannot walk " + dir + ": " + e.getMessage());
        }
    }

    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    /** Whether {@code dir} is on a cgroup (v1 or v2) mount, as the mount table says. */
    static boolean isCgroupfs(Path dir) {
        try {
            String type = Files.getFileStore(dir).type();
            return "cgroup2".equals(type) || "cgroup".equals(type);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private PidsCgroup readOne(Path hierarchy, Path dir, List<String> warnings) {
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

    /**
     * A cgroup control file, at most {@value #MAX_FILE} bytes of it, into one buffer for the whole walk; only a
     * regular file: on a cgroup file system every file is one, elsewhere (a fixture tree, where a FIFO in its
     * place would block the scan) it is looked at before it is opened. Plain reads (no seek, no size), ending
     * at end-of-file, a full buffer, or a short read that ends a line (the kernel writes these in one).
     */
    private String read(Path p) {
        if (!cgroupfs && !HostReader.isRegular(p)) {
            return null;
        }
        try (FileChannel in = FileChannel.open(p)) {
            ByteBuffer b = buffer();
            int n;
            while (b.hasRemaining() && (n = in.read(b)) > 0) {
                if (b.hasRemaining() && b.get(b.position() - 1) == '\n') {
                    break;
                }
            }
            return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Bytes read of one control file at most (they are a line or a few). */
    static final int MAX_FILE = 64 << 10;

    private ByteBuffer buffer() {
        if (buf == null) {
            buf = ByteBuffer.allocate(MAX_FILE);
        }
        return buf.clear();
    }
}
