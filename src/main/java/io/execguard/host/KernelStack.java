package io.execguard.host;

import java.util.ArrayList;
import java.util.List;

/** Parses {@code /proc/PID/task/TID/stack}: one frame per line, offsets and module names removed. */
public final class KernelStack {
    private KernelStack() {
    }

    /**
     * {@code "[<0>] ceph_mdsc_do_request+0x186/0x240 [ceph]"} becomes {@code "ceph_mdsc_do_request"}.
     * The terminating {@code 0xffffffffffffffff} line of old kernels is dropped.
     */
    public static List<String> parse(String text) {
        List<String> frames = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("[<")) {
                int end = line.indexOf("]");
                line = end < 0 ? "" : line.substring(end + 1).trim();
            }
            int plus = line.indexOf('+');
            String name = plus >= 0 ? line.substring(0, plus) : line.split("\\s+")[0];
            if (name.isEmpty() || name.startsWith("0x")) {
                continue;
            }
            frames.add(name);
        }
        return List.copyOf(frames);
    }
}
