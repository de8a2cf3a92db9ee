package io.execguard.probe.canary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import io.execguard.host.CgroupRef;

/**
 * Where the canary execs: the probe's own container, found from its own cgroup ({@code /proc/self/cgroup}: cgroupfs
 * {@code .../pod<uid>/<id>} and systemd {@code cri-containerd-<id>.scope} layouts, {@link CgroupRef}), and that
 * container's shim, the probe's parent (the probe is its container's init and runs in the host's PID namespace, so
 * its parent pid is the shim's host pid).
 *
 * @param containerId the runtime's id of the probe's container
 * @param shimPid     the shim's pid, 0 when the probe's parent is not known
 */
public record CanaryTarget(String containerId, int shimPid) {

    /** The probe's own target, or empty when its cgroup names no container (e.g. a private cgroup namespace). */
    public static Optional<CanaryTarget> ofSelf(Path procSelfCgroup) {
        String text;
        try {
            text = Files.readString(procSelfCgroup);
        } catch (IOException e) {
            return Optional.empty();
        }
        CgroupRef ref = CgroupRef.ofProcFile(text);
        if (ref == null || ref.containerId() == null) {
            return Optional.empty();
        }
        int shim = ProcessHandle.current().parent().map(p -> (int) p.pid()).orElse(0);
        return Optional.of(new CanaryTarget(ref.containerId(), shim));
    }
}
