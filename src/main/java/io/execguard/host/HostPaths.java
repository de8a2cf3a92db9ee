package io.execguard.host;

import java.nio.file.Path;

/**
 * Where the host's pseudo filesystems live. Everything execguard reads is resolved against one root,
 * so a fixture tree, a DaemonSet's {@code /host} mount and the real {@code /} use the same code.
 */
public record HostPaths(Path root) {

    public HostPaths {
        root = root.toAbsolutePath().normalize();
    }

    public Path proc() {
        return root.resolve("proc");
    }

    public Path proc(String relative) {
        return proc().resolve(relative);
    }

    public Path task(int pid, int tid) {
        return proc().resolve(Integer.toString(pid)).resolve("task").resolve(Integer.toString(tid));
    }

    public Path cgroupRoot() {
        return root.resolve("sys/fs/cgroup");
    }

    public Path fuseConnections() {
        return root.resolve("sys/fs/fuse/connections");
    }
}
