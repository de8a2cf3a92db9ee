package io.execguard.probe;

import java.time.Instant;

import io.execguard.repair.Repair;

/** Where a node's report goes: the NodeExecHealth status in production, a fake in tests. */
public interface StatusWriter {

    /** Writes the whole status (creating the resource first if it is missing). */
    void write(ProbeReport report, Instant probeTime);

    /** Records that a Critical finding appeared ({@code appeared}) or cleared, on the Node and the resource. */
    void event(ProbeReport.Item item, boolean appeared, Instant when);

    /** Records a node-local repair (done, dry run or failed) as an Event on the Node and the resource. */
    void repairEvent(Repair repair);
}
