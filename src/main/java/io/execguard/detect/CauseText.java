package io.execguard.detect;

import java.util.regex.Pattern;

import io.execguard.host.ThreadSnapshot;

/** Human wording for causes: what the task waits for, and what to do about it. */
final class CauseText {
    /** Frames that wait for the far end of a request: the daemon or server, not local client code. */
    private static final Pattern FUSE_ANSWER = Pattern.compile("request_wait_answer");
    private static final Pattern NFS_SERVER = Pattern.compile("rpc_wait_bit_killable|__rpc_execute|rpc_execute"
            + "|__rpc_wait_for_completion_task");
    private static final Pattern CEPH_CLUSTER = Pattern.compile("ceph_mdsc_do_request|ceph_osdc_wait_request"
            + "|ceph_osdc_\\w*wait\\w*");
    private static final Pattern SMB_SERVER = Pattern.compile("wait_for_response|compound_send_recv|SendReceive\\w*");

    private CauseText() {
    }

    private static boolean anyFrame(ThreadSnapshot t, Pattern p) {
        return CauseRules.framesOf(t).stream().anyMatch(f -> p.matcher(f).matches());
    }

    /** What the thread waits for, claiming the far end (daemon, server) only where a frame waits for it. */
    static String waitingFor(Cause cause, ThreadSnapshot t, MountRef m) {
        String on = Evidence.onMount(m);
        return switch (cause) {
            case PipeFull -> "blocked writing to a full pipe";
            case FuseRequest -> (anyFrame(t, FUSE_ANSWER) ? "waiting for a FUSE daemon's answer"
                    : "blocked in the FUSE client") + on;
            case NfsRequest -> (anyFrame(t, NFS_SERVER) ? "waiting for an NFS server" : "blocked in the NFS client") + on;
            case CephRequest -> (anyFrame(t, CEPH_CLUSTER) ? "waiting for the ceph cluster"
                    : "blocked in the ceph client") + on;
            case CifsRequest -> (anyFrame(t, SMB_SERVER) ? "waiting for an SMB server" : "blocked in the SMB client")
                    + on;
            case BlockIo -> "waiting for block I/O";
            case PidNamespaceTeardown -> "waiting in zap_pid_ns_processes for its pid namespace to empty";
            case PidsLimit -> "refused a fork by its pids limit";
            case Unknown -> "in state " + t.state() + (t.wchan() != null ? " at " + t.wchan() : "");
        };
    }

    static String remedy(Cause cause, MountRef m) {
        return switch (cause) {
            case PipeFull -> "kill the stuck writer or drain its pipe, and check fs.pipe-user-pages-soft (default 16384)";
            case FuseRequest -> m != null && m.fuseConnection() != null
                    ? "abort the connection (echo 1 > /sys/fs/fuse/connections/" + m.fuseConnection()
                        + "/abort) or restart its daemon"
                    : "restart or abort the FUSE daemon's connection under /sys/fs/fuse/connections";
            case NfsRequest, CephRequest, CifsRequest -> "restore the storage backend or force-unmount (umount -f -l)";
            case BlockIo -> "check the disk and its driver (dmesg)";
            case PidNamespaceTeardown -> "free the namespace's stuck tasks (see the other findings)";
            case PidsLimit -> "find what fills the cgroup (pids.current by process) or raise its pids limit";
            case Unknown -> "inspect the kernel stack; drain the node if it persists";
        };
    }
}
