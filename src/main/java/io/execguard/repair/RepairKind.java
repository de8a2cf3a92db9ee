package io.execguard.repair;

/** The node-local repairs the probe can make. */
public enum RepairKind {
    /** {@code echo 1 > /sys/fs/fuse/connections/N/abort}: every request waiting on connection N fails with ENOTCONN. */
    AbortFuseConnection,
    /** SIGHUP to a leaked exec session: what the vanished client's terminal hangup would have sent. */
    HangUpLeakedSession,
    /** SIGKILL to a leaked exec session that outlived its SIGHUP by the grace period. */
    KillLeakedSession
}
