package io.execguard.detect;

import java.util.List;

import io.execguard.host.HostInfo;
import io.execguard.host.HostSnapshot;

/** {@code kernel.pty.nr} at or above the ratio of {@code kernel.pty.max}: the next {@code exec -it} fails. */
public final class PtyExhaustionDetector implements Detector {

    private final Thresholds thresholds;

    public PtyExhaustionDetector(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        HostInfo h = s.host();
        if (h.ptyMax() <= 0 || h.ptyNr() < 0 || h.ptyNr() < thresholds.ptyRatio() * h.ptyMax()) {
            return List.of();
        }
        long leaked = earlier.stream().filter(f -> f.type() == FindingType.LeakedExecSession).count();
        String msg = "kernel.pty.nr is " + h.ptyNr() + " of kernel.pty.max " + h.ptyMax()
                + ": new interactive execs (exec -it) will fail to get a terminal; "
                + (leaked > 0 ? "end the " + leaked + " leaked exec sessions, or " : "find leaked exec shells, or ")
                + "raise kernel.pty.max.";
        return List.of(new Finding(FindingType.PtyExhaustionRisk, Cause.Unknown,
                h.ptyNr() >= h.ptyMax() ? Severity.Critical : Severity.Warning, Scope.Node, msg, null, null, null,
                null, null, List.of(), List.of(), null, null, null, null, null));
    }
}
