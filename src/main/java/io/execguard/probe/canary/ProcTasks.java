package io.execguard.probe.canary;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Optional;

import io.execguard.detect.CanaryObservation;
import io.execguard.host.HostPaths;

/**
 * A task's pid, comm, state, wchan and parent from the host's {@code /proc/PID/stat} and {@code wchan}: reads that do
 * not take the task's memory lock (unlike {@code cmdline}), so they do not block on a task stuck in the kernel.
 */
final class ProcTasks {

    private ProcTasks() {
    }

    /** The task, or empty when it is gone or unreadable. */
    static Optional<CanaryObservation.Task> task(HostPaths host, int pid) {
        return stat(host, pid).map(s -> new CanaryObservation.Task(pid, s.comm(), s.state(), wchan(host, pid)));
    }

    /** The task's parent pid, or 0 when unknown. */
    static int parent(HostPaths host, int pid) {
        return stat(host, pid).map(Stat::ppid).orElse(0);
    }

    record Stat(String comm, char state, int ppid) {
    }

    static Optional<Stat> stat(HostPaths host, int pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        try {
            return parse(Files.readString(host.proc(pid + "/stat")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** {@code pid (comm) S ppid ...}: comm may hold spaces and parentheses, so it ends at the last ')'. */
    static Optional<Stat> parse(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= stat.length()) {
            return Optional.empty();
        }
        String[] rest = stat.substring(close + 2).split(" ");
        if (rest.length < 2 || rest[0].length() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Stat(stat.substring(open + 1, close), rest[0].charAt(0), Integer.parseInt(rest[1])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String wchan(HostPaths host, int pid) {
        try {
            String w = Files.readString(host.proc(pid + "/wchan")).strip();
            return w.isEmpty() || w.equals("0") ? null : w;
        } catch (IOException e) {
            return null;
        }
    }
}
