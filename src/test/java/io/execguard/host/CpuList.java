package io.execguard.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The kernel's CPU list format ({@code Cpus_allowed_list}, cpuset files) for the tests that pin to CPUs. */
public final class CpuList {

    private CpuList() {
    }

    /** "0-3,8,10-11" -> [0, 1, 2, 3, 8, 10, 11]; "" -> []. */
    public static List<Integer> parse(String list) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : list.strip().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            String[] r = part.split("-");
            for (int c = Integer.parseInt(r[0]); c <= Integer.parseInt(r[r.length - 1]); c++) {
                cpus.add(c);
            }
        }
        return cpus;
    }

    /** {@code Cpus_allowed_list} of a {@code status} file ({@code /proc/self/status}, {@code /proc/thread-self/status}). */
    public static String allowed(Path status) {
        try {
            return Files.readAllLines(status).stream().filter(l -> l.startsWith("Cpus_allowed_list:"))
                    .map(l -> l.substring("Cpus_allowed_list:".length()).strip()).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no Cpus_allowed_list in " + status));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
