package io.execguard.host;

import java.util.ArrayList;
import java.util.List;

/**
 * One line of {@code /proc/PID/mountinfo} (see proc(5)).
 *
 * @param major      device major (0 for FUSE, NFS, ceph and other anonymous devices)
 * @param minor      device minor; for FUSE the connection number in /sys/fs/fuse/connections
 * @param root       the root of the mount within the filesystem
 * @param mountPoint where it is mounted, in that task's mount namespace
 * @param fsType     e.g. {@code fuse.bindfs}, {@code nfs4}, {@code ceph}
 * @param source     e.g. {@code 10.0.0.1:/export}, {@code bindfs}
 * @param id         the mount id (first field; what {@code mnt_id} in {@code /proc/PID/fdinfo/N} refers to),
 *                   -1 when unknown
 */
public record MountEntry(int major, int minor, String root, String mountPoint, String fsType, String source,
                         int id) {

    public MountEntry(int major, int minor, String root, String mountPoint, String fsType, String source) {
        this(major, minor, root, mountPoint, fsType, source, -1);
    }

    public boolean isFuse() {
        return fsType.equals("fuse") || fsType.startsWith("fuse.") || fsType.equals("fuseblk");
    }

    public static List<MountEntry> parseAll(String text) {
        List<MountEntry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                out.add(parse(line));
            }
        }
        return List.copyOf(out);
    }

    /** Parses one line; octal escapes ({@code \040}) in paths are decoded. */
    public static MountEntry parse(String line) {
        String[] f = line.trim().split(" ");
        int sep = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                sep = i;
                break;
            }
        }
        if (f.length < 7 || sep < 0 || sep + 2 >= f.length) {
            throw new ProcParseException("mountinfo line without the ' - fstype source' part");
        }
        String[] dev = f[2].split(":");
        if (dev.length != 2) {
            throw new ProcParseException("mountinfo device field '" + f[2] + "' is not major:minor");
        }
        try {
            return new MountEntry(Integer.parseInt(dev[0]), Integer.parseInt(dev[1]), unescape(f[3]),
                    unescape(f[4]), f[sep + 1], unescape(f[sep + 2]), mountId(f[0]));
        } catch (NumberFormatException e) {
            throw new ProcParseException("mountinfo device field '" + f[2] + "' is not numeric");
        }
    }

    private static int mountId(String field) {
        try {
            return Integer.parseInt(field);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }
}
