package io.execguard.detect;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.ThreadSnapshot;

/**
 * A user task in D state for at least the threshold (the kernel's hung-task timeout, 120 s, by default)
 * that no other detector explains. Kernel threads never reach the snapshot.
 */
public final class HungTaskDetector implements Detector {

    private final Thresholds thresholds;
    private final CauseRules rules;

    public HungTaskDetector(Thresholds thresholds, CauseRules rules) {
        this.thresholds = thresholds;
        this.rules = rules;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        Set<Integer> covered = new HashSet<>();
        for (Finding f : earlier) {
            if (f.pid() != null) {
                covered.add(f.pid());
            }
        }
        List<Finding> out = new ArrayList<>();
        for (ProcessSnapshot p : s.processes()) {
            if (covered.contains(p.pid())) {
                continue;
            }
            ThreadSnapshot t = rules.blockedThread(p.threads());
            if (t == null || t.state() != 'D') {
                continue;
            }
            double blocked = Evidence.blockedFor(p, t);
            if (blocked < thresholds.hungTask()) {
                continue;
            }
            Cause cause = rules.classify(t);
            MountRef mount = Evidence.mountFor(cause, p, t, s);
            String msg = "pid " + p.pid() + " (" + t.comm() + ")" + Evidence.where(p)
                    + " has been in uninterruptible sleep for " + Evidence.offCpu(p, t) + ", "
                    + CauseText.waitingFor(cause, t, mount) + "; " + CauseText.remedy(cause, mount) + ".";
            out.add(Evidence.task(FindingType.HungTask, cause, Severity.Warning, msg, p, t, null, mount));
        }
        return out;
    }
}
