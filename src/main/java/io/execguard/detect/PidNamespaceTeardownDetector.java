package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.ThreadSnapshot;

/**
 * A pid namespace's init blocked in {@code zap_pid_ns_processes}: it has disabled pid allocation (so
 * setns and every new exec fail) and waits for the namespace's other tasks, one of which cannot exit.
 * Recognised from the kernel stack, or, where the stack is hidden, from an exiting pid-1 task sleeping
 * in {@code do_wait}.
 */
public final class PidNamespaceTeardownDetector implements Detector {

    private final Thresholds thresholds;
    private final CauseRules rules;

    public PidNamespaceTeardownDetector(Thresholds thresholds, CauseRules rules) {
        this.thresholds = thresholds;
        this.rules = rules;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        List<Finding> out = new ArrayList<>();
        for (ProcessSnapshot p : s.processes()) {
            for (ThreadSnapshot t : p.threads()) {
                if (t.dead() || !inTeardown(p, t)) {
                    continue;
                }
                double blocked = Evidence.blockedFor(p, t);
                if (blocked < thresholds.pidNamespaceTeardown()) {
                    continue;
                }
                String msg = "the init of " + Evidence.shortId(p.containerId()) + " (pid " + p.pid() + ", "
                        + p.comm() + ") has been tearing down its pid namespace for " + Evidence.offCpu(p, t)
                        + blockers(p, s)
                        + ": the namespace takes no new pids, so new execs fail (setns errors), and kill and pod "
                        + "deletion hang until its other tasks have exited; "
                        + CauseText.remedy(Cause.PidNamespaceTeardown, null) + ".";
                out.add(Evidence.task(FindingType.PidNamespaceTeardownStuck, Cause.PidNamespaceTeardown,
                        Severity.Critical, msg, p, t, null, null));
                break;
            }
        }
        return out;
    }

    private static boolean inTeardown(ProcessSnapshot p, ThreadSnapshot t) {
        if (t.kernelStack().contains("zap_pid_ns_processes") || "zap_pid_ns_processes".equals(t.wchan())) {
            return true;
        }
        return t.kernelStack().isEmpty() && t.exiting() && p.nsPid() == 1
                && ("do_wait".equals(t.wchan()) || "kernel_wait4".equals(t.wchan()));
    }

    /** ", waiting for pid 7 (ndrive) in FuseRequest": the container's other tasks in D or with SIGKILL pending. */
    private String blockers(ProcessSnapshot init, HostSnapshot s) {
        if (init.containerId() == null) {
            return "";
        }
        List<String> names = new ArrayList<>();
        for (ProcessSnapshot p : s.processes()) {
            if (p.pid() == init.pid() || !Objects.equals(p.containerId(), init.containerId())) {
                continue;
            }
            ThreadSnapshot t = rules.blockedThread(p.threads());
            if (t != null && !t.dead() && (t.state() == 'D' || t.sigkillPending())) {
                Cause c = rules.classify(t);
                names.add("pid " + p.pid() + " (" + p.comm() + ")"
                        + (c == Cause.Unknown ? "" : " in " + c));
            }
        }
        return names.isEmpty() ? "" : ", waiting for " + String.join(", ", names);
    }
}
