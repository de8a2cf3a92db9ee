package io.execguard.probe;

import java.time.Instant;

/** Where a node's report goes: the NodeExecHealth status in production, a fake in tests. */
public interface StatusWriter {

    /** Writes the whole status (creating the resource first if it is missing). */
    void write(ProbeReport report, Instant probeTime);

    /** Records that a Critical finding appeared ({@code appeared}) or cleared, on the Node and the resource. */
    void event(ProbeReport.Item item, boolean appeared, Instant when);
}
