package io.execguard.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where a task's files are: what tells which of several mounts of one type it is using.
 *
 * @param cwd      target of {@code /proc/PID/cwd} (a path in the task's mount namespace), or null
 * @param root     target of {@code /proc/PID/root}, or null
 * @param mountIds the {@code mnt_id} of each open file ({@code /proc/PID/fdinfo/N}), distinct, ascending;
 *                 the first field of a {@code mountinfo} line
 * @param fdPaths  paths of open files whose {@code fdinfo} has no {@code mnt_id} (kernels before 3.15)
 * @param read     whether the task's files could be read at all (false: nothing is known about them)
 * @param allFiles whether every open file was looked at (false: more than {@code HostReader.MAX_FDS}, or the
 *                 listing ended part way); only files with a path count (sockets, pipes, anonymous inodes
 *                 and memfds are on no mount a task can wait on)
 */
public record OpenFiles(String cwd, String root, List<Integer> mountIds, List<String> fdPaths, boolean read,
                        boolean allFiles) {

    /** Nothing read. */
    public static final OpenFiles UNKNOWN = new OpenFiles(null, null, List.of(), List.of(), false, false);

    /** Files read in full. */
    public OpenFiles(String cwd, String root, List<Integer> mountIds, List<String> fdPaths, boolean read) {
        this(cwd, root, mountIds, fdPaths, read, read);
    }

    public OpenFiles {
        mountIds = List.copyOf(mountIds);
        fdPaths = List.copyOf(fdPaths);
    }

    /**
     * The text {@link HostReader} carries out of the deadline read: NUL-separated "all" or "part", cwd, root,
     * ids, paths.
     */
    static String encode(boolean all, String cwd, String root, List<Integer> ids, List<String> paths) {
        StringBuilder b = new StringBuilder(all ? "all" : "part").append('\0');
        b.append(cwd == null ? "" : cwd).append('\0').append(root == null ? "" : root).append('\0');
        for (int i = 0; i < ids.size(); i++) {
            b.append(i == 0 ? "" : ",").append(ids.get(i));
        }
        for (String p : paths) {
            b.append('\0').append(p);
        }
        return b.toString();
    }

    static OpenFiles decode(String text) {
        int cut = text.indexOf('\0');
        boolean all = text.substring(0, Math.max(0, cut)).equals("all");
        String[] f = text.substring(cut + 1).split("\0", -1);
        List<Integer> ids = f.length < 3 || f[2].isEmpty() ? List.of()
                : Arrays.stream(f[2].split(",")).map(Integer::valueOf).toList();
        List<String> paths = new ArrayList<>();
        for (int i = 3; i < f.length; i++) {
            paths.add(f[i]);
        }
        return new OpenFiles(f[0].isEmpty() ? null : f[0], f.length < 2 || f[1].isEmpty() ? null : f[1], ids,
                paths, true, all);
    }
}
