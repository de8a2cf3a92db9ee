package io.execguard.detect;

import io.execguard.host.ThreadSnapshot;

/** Human wording for causes: what the task waits for, and what to do about it. */
final class CauseText {
    private CauseText() {
    }

    static String waitingFor(Cause cause, ThreadSnapshot t, MountRef m) {
        String on = Evidence.onMount(m);
        return switch (cause) {
            case PipeFull -> "blocked writing a full pipe that nobody reads";
            case FuseRequest -> "waiting for a FUSE daemon's answer" + on;
            case NfsRequest -> "waiting for an NFS server" + on;
            case CephRequest -> "waiting for the ceph cluster" + on;
            case CifsRequest -> "waiting for an SMB server" + on;
            case BlockIo -> "waiting for block I/O";
            case PidNamespaceTeardown -> "waiting in zap_pid_ns_processes for its pid namespace to empty";
            case PidsLimit -> "refused a fork by its pids limit";
            case Unknown -> "in state " + t.state() + (t.wchan() != null ? " at " + t.wchan() : "");
        };
    }

    static String remedy(Cause cause, MountRef m) {
        return switch (cause) {
            case PipeFull -> "restore fs.pipe-user-pages-soft (default 16384) and kill the stuck writer";
            case FuseRequest -> m != null && m.fuseConnection() != null
                    ? "abort the connection (echo 1 > /sys/fs/fuse/connections/" + m.fuseConnection()
                        + "/abort) or restart its daemon"
                    : "restart or abort the FUSE daemon's connection under /sys/fs/fuse/connections";
            case NfsRequest, CephRequest, CifsRequest -> "restore the storage backend or force-unmount (umount -f -l)";
            case BlockIo -> "check the disk and its driver (dmesg)";
            case PidNamespaceTeardown -> "free the namespace's stuck tasks (see the other findings)";
            case PidsLimit -> "raise the pids limit or stop the thread leak";
            case Unknown -> "inspect the kernel stack; drain the node if it persists";
        };
    }
}
