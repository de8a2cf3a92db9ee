package io.execguard.detect;

import java.util.List;

import io.execguard.host.HostSnapshot;

/** One condition: snapshot in, findings out. No I/O, no clock: ages come from the snapshot. */
public interface Detector {

    /**
     * @param snapshot what the host looked like
     * @param earlier  findings of the detectors that ran before this one (for "not covered above" rules)
     */
    List<Finding> detect(HostSnapshot snapshot, List<Finding> earlier);
}
