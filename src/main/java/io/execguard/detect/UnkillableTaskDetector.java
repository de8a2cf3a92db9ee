package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.ThreadSnapshot;

/**
 * A live thread with SIGKILL pending ({@code SigPnd} or {@code ShdPnd} bit 0x100) that has not run for
 * the threshold: the kernel cannot deliver the kill while the thread waits uninterruptibly (seed 004;
 * a thread already PF_EXITING does not even get the signal queued privately).
 */
public final class UnkillableTaskDetector implements Detector {

    private final Thresholds thresholds;
    private final CauseRules rules;

    public UnkillableTaskDetector(Thresholds thresholds, CauseRules rules) {
        this.thresholds = thresholds;
        this.rules = rules;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        List<Finding> out = new ArrayList<>();
        for (ProcessSnapshot p : s.processes()) {
            List<ThreadSnapshot> killed = p.threads().stream()
                    .filter(t -> !t.dead() && t.sigkillPending()).toList();
            if (killed.isEmpty()) {
                continue;
            }
            ThreadSnapshot t = rules.blockedThread(killed);
            double blocked = Evidence.blockedFor(p, t);
            if (blocked < thresholds.unkillableTask()) {
                continue;
            }
            Cause cause = rules.classify(t);
            MountRef mount = Evidence.mountFor(cause, p, t, s);
            String who = t.tid() == p.pid() ? "pid " + p.pid() : "thread " + t.tid() + " of pid " + p.pid();
            boolean contained = Evidence.scopeOf(p) == Scope.Container;
            String msg = who + " (" + t.comm() + ")" + Evidence.where(p) + " has SIGKILL pending and has not run for "
                    + Evidence.offCpu(p, t) + ", " + CauseText.waitingFor(cause, t, mount)
                    + ": it cannot exit until that wait ends, so "
                    + (contained ? "kill, docker kill and pod deletion do" : "kill does") + " not complete; "
                    + CauseText.remedy(cause, mount) + ".";
            out.add(Evidence.task(FindingType.UnkillableTask, cause, Severity.Critical, msg, p, t, null, mount));
        }
        return out;
    }
}
