package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;

import io.execguard.host.HostSnapshot;
import io.execguard.host.PidsCgroup;

/**
 * A container's (or pod's) pids cgroup at or near {@code pids.max}, or with forks already refused
 * ({@code pids.events} max &gt; 0). runc init needs several threads inside the container's cgroup, so
 * exec fails with {@code read init-p: connection reset by peer} (seed 000).
 */
public final class PidsLimitDetector implements Detector {

    private final Thresholds thresholds;

    public PidsLimitDetector(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        List<Finding> out = new ArrayList<>();
        for (PidsCgroup c : s.pidsCgroups()) {
            String container = c.ref().containerId();
            String pod = c.ref().podUid();
            if (container == null && pod == null) {
                continue;
            }
            boolean near = c.max() > 0 && c.current() >= Math.ceil(thresholds.pidsRatio() * c.max());
            if (!near && c.eventsMax() <= 0) {
                continue;
            }
            boolean atMax = c.max() > 0 && c.current() >= c.max();
            String who = container != null ? Evidence.shortId(container) : "pod " + pod;
            String usage = c.max() > 0 ? c.current() + "/" + c.max() + " pids" : c.current() + " pids (no limit now)";
            String refused = c.eventsMax() > 0 ? ", " + c.eventsMax() + " forks refused so far" : "";
            String msg = who + " is " + (atMax ? "at" : near ? "near" : "below") + " its pids limit (" + usage + refused
                    + "): new execs fail with 'read init-p: connection reset by peer'; "
                    + "raise the pids limit or stop the thread leak.";
            out.add(new Finding(FindingType.PidsLimitReached, Cause.PidsLimit,
                    atMax ? Severity.Critical : Severity.Warning, Scope.Container, msg, null, null, null, null, null,
                    List.of(), List.of(), null, container, pod, c.path(), null));
        }
        return out;
    }
}
