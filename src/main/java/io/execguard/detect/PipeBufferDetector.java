package io.execguard.detect;

import java.util.List;

import io.execguard.host.HostInfo;
import io.execguard.host.HostSnapshot;

/**
 * {@code fs.pipe-user-pages-soft} far below its default (16384 pages), or a stuck task blocked writing
 * a full pipe. A user past the soft limit gets one-page pipes; runc init writing its crash output into
 * one while the shim waits for runc to exit deadlocks the exec (seed 001). Node scope.
 */
public final class PipeBufferDetector implements Detector {

    private final Thresholds thresholds;

    public PipeBufferDetector(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        HostInfo h = s.host();
        boolean lowSoft = h.pipeUserPagesSoft() > 0 && h.pipeUserPagesSoft() < thresholds.pipeUserPagesSoftMin();
        Finding writer = earlier.stream().filter(f -> f.cause() == Cause.PipeFull && f.pid() != null).findFirst()
                .orElse(null);
        if (!lowSoft && writer == null) {
            return List.of();
        }
        StringBuilder msg = new StringBuilder();
        if (lowSoft) {
            msg.append("fs.pipe-user-pages-soft is ").append(h.pipeUserPagesSoft())
                    .append(" pages (default 16384): users without CAP_SYS_RESOURCE who hold more pipe pages than "
                            + "that get new pipes of the minimum size (one or two pages, by kernel)");
        }
        if (writer != null) {
            msg.append(lowSoft ? ", and " : "").append("pid ").append(writer.pid()).append(" (").append(writer.comm())
                    .append(") is stuck writing a full pipe");
        }
        msg.append(": runtime helpers such as runc init can deadlock writing to a pipe their parent reads only "
                + "after they exit; ").append(lowSoft ? "restore fs.pipe-user-pages-soft to 16384"
                        : "kill the stuck writer or drain its pipe").append('.');
        return List.of(new Finding(FindingType.PipeBufferExhaustionRisk, Cause.PipeFull,
                writer != null ? Severity.Critical : Severity.Warning, Scope.Node, msg.toString(),
                writer == null ? null : writer.pid(), null, writer == null ? null : writer.comm(), null, null,
                List.of(), List.of(), null, null, null, null, null));
    }
}
