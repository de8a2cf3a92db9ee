package io.execguard.host;

import java.util.List;
import java.util.Set;

/** How container runtime processes are recognised by name ({@code comm} is cut at 15 bytes). */
public final class RuntimeNames {
    private RuntimeNames() {
    }

    /** Shims: the parent of a container's init and of every exec'd process. */
    private static final Set<String> SHIMS = Set.of("containerd-shim", "docker-containe", "conmon");
    /** Daemons reported in the host section. */
    private static final Set<String> DAEMONS = Set.of("dockerd", "containerd", "crio", "podman", "kubelet");

    /** {@code runc:[0:PARENT]}, {@code runc:[1:CHILD]}, {@code runc:[2:INIT]}: runc's nsexec stages. */
    public static boolean isRuncInitComm(String comm) {
        return comm.startsWith("runc:[");
    }

    /** Any runc process: the CLI itself ({@code runc ... exec}) or one of its init stages. */
    public static boolean isRunc(String comm) {
        return comm.equals("runc") || isRuncInitComm(comm);
    }

    /** argv of {@code runc init} (older runc, or before the init renames itself). */
    public static boolean isRuncInitArgv(List<String> argv) {
        return argv.size() >= 2 && argv.get(0).endsWith("runc") && argv.get(1).equals("init");
    }

    /** argv of {@code runc [global flags] exec [flags] <container-id>}. */
    public static boolean isRuncExecArgv(List<String> argv) {
        return !argv.isEmpty() && argv.get(0).endsWith("runc") && argv.contains("exec");
    }

    public static boolean isShim(String comm) {
        return SHIMS.contains(comm) || comm.startsWith("containerd-shim");
    }

    public static boolean isDaemon(String comm) {
        return DAEMONS.contains(comm);
    }
}
