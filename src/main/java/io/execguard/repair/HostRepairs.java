package io.execguard.repair;

import java.io.IOException;

/** The host side effects of repairs; {@link ProcHostRepairs} in production, a fake in tests. */
public interface HostRepairs {

    /** Writes to the connection's {@code abort} file in fusectl. */
    void abortFuseConnection(int connection) throws IOException;

    /**
     * Sends {@code signal} (e.g. "HUP", "KILL") to {@code pid} if it is still the process that started at
     * {@code startTimeTicks}; returns false (and sends nothing) when it is gone or the PID was reused.
     */
    boolean signal(int pid, long startTimeTicks, String signal) throws IOException;

}
