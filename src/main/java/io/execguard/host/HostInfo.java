package io.execguard.host;

import java.util.List;

/**
 * Host facts that frame every finding. Numeric sysctls are -1 when unreadable.
 *
 * @param hostname          kernel.hostname
 * @param kernel            kernel.osrelease
 * @param cgroupLayout      {@code v1}, {@code v2} or {@code hybrid}
 * @param runtimes          container runtime daemons seen running (dockerd, containerd, crio, ...)
 * @param ptyNr             kernel.pty.nr
 * @param ptyMax            kernel.pty.max
 * @param ptyReserve        kernel.pty.reserve: ptys only devpts instances mounted in the initial mount namespace
 *                          may use (every container's {@code /dev/pts} is mounted in its own)
 * @param pipeUserPagesSoft fs.pipe-user-pages-soft
 * @param pipeUserPagesHard fs.pipe-user-pages-hard
 * @param pipeMaxSize       fs.pipe-max-size
 * @param uptimeSeconds     /proc/uptime
 */
public record HostInfo(String hostname, String kernel, String cgroupLayout, List<String> runtimes, long ptyNr,
                       long ptyMax, long ptyReserve, long pipeUserPagesSoft, long pipeUserPagesHard, long pipeMaxSize,
                       double uptimeSeconds) {
}
