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
            boolean near = c.max() >= 0 && c.current() >= Math.ceil(thresholds.pidsRatio() * c.max());
            if (!near && c.eventsMax() <= 0) {
                continue;
            }
            boolean atMax = c.max() >= 0 && c.current() >= c.max();
            out.add(new Finding(FindingType.PidsLimitReached, Cause.PidsLimit,
                    atMax ? Severity.Critical : Severity.Warning, Scope.Container, message(c, near, atMax), null, null,
                    null, null, null, List.of(), List.of(), null, container, pod, c.path(), null));
        }
        return out;
    }

    /**
     * What the counters show, and no more: at (or over) the limit the kernel refuses every new task in the
     * cgroup, so execs fail now; near it they fail once it is reached; refusals counted in {@code pids.events}
     * say forks were refused at some time by a pids limit (the counter never goes down), not that they are now.
     */
    static String message(PidsCgroup c, boolean near, boolean atMax) {
        String container = c.ref().containerId();
        String who = container != null ? Evidence.shortId(container) : "pod " + c.ref().podUid();
        String refused = c.eventsMax() <= 0 ? "" : c.eventsMax() + " fork" + (c.eventsMax() == 1 ? "" : "s")
                + " refused so far";
        String remedy = "; " + CauseText.remedy(Cause.PidsLimit, null) + ".";
        String fails = "execs fail with 'read init-p: connection reset by peer'";
        if (atMax) {
            return who + " is " + (c.current() > c.max() ? "over" : "at") + " its pids limit (" + c.current() + "/"
                    + c.max() + " pids" + (refused.isEmpty() ? "" : ", " + refused)
                    + "): the kernel refuses every new task in it, so " + fails + remedy;
        }
        if (near) {
            long left = c.max() - c.current();
            return who + " is near its pids limit (" + c.current() + "/" + c.max() + " pids, " + left + " left"
                    + (refused.isEmpty() ? "" : ", " + refused) + "): " + fails
                    + " once it is reached (runc init needs several new tasks in it)" + remedy;
        }
        if (c.max() < 0) {
            return who + " has no pids limit of its own now (" + c.current() + " pids), but pids.events counts "
                    + refused + " by a pids limit: " + fails + " while a limit is reached" + remedy;
        }
        return who + " is below its pids limit now (" + c.current() + "/" + c.max() + " pids), but pids.events counts "
                + refused + " by a pids limit: " + fails + " while a limit is reached" + remedy;
    }
}
