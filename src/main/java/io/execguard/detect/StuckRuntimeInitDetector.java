package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.RuntimeNames;
import io.execguard.host.ThreadSnapshot;

/**
 * A {@code runc init} older than the threshold: runc's init stages live for milliseconds, so one that
 * lingers means the exec (or start) behind it never began (seeds 001 and 002). The container comes
 * from the init's cgroup, or from the parent {@code runc ... exec}'s last argument.
 */
public final class StuckRuntimeInitDetector implements Detector {

    private final Thresholds thresholds;
    private final CauseRules rules;

    public StuckRuntimeInitDetector(Thresholds thresholds, CauseRules rules) {
        this.thresholds = thresholds;
        this.rules = rules;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        Map<Integer, ProcessSnapshot> byPid = s.processes().stream()
                .collect(Collectors.toMap(ProcessSnapshot::pid, Function.identity(), (a, b) -> a));
        List<Finding> out = new ArrayList<>();
        for (ProcessSnapshot p : s.processes()) {
            if (!RuntimeNames.isRuncInitComm(p.comm()) && !RuntimeNames.isRuncInitArgv(p.argv())) {
                continue;
            }
            if (p.ageSeconds() < thresholds.stuckRuntimeInit()) {
                continue;
            }
            ThreadSnapshot t = rules.blockedThread(p.threads());
            if (t == null || t.dead()) {
                continue;
            }
            Cause cause = rules.classify(t);
            MountRef mount = Evidence.mountFor(cause, p, t, s);
            String fallback = containerFromParent(byPid.get(p.ppid()));
            String container = p.containerId() != null ? p.containerId() : fallback;
            String msg = "runc init (pid " + p.pid() + ") for " + Evidence.shortId(container) + " has been alive "
                    + Evidence.duration(p.ageSeconds()) + ", " + CauseText.waitingFor(cause, t, mount)
                    + ": the exec (or start) it was run for has not begun, and the runtime may block on this "
                    + "container until it ends; "
                    + CauseText.remedy(cause, mount) + ".";
            out.add(Evidence.task(FindingType.StuckRuntimeInit, cause, Severity.Critical, msg, p, t, fallback, mount));
        }
        return out;
    }

    /** The container id a {@code runc ... exec ... <id>} parent names, or null. */
    static String containerFromParent(ProcessSnapshot parent) {
        if (parent == null) {
            return null;
        }
        List<String> argv = parent.argv();
        if (!RuntimeNames.isRuncExecArgv(argv)) {
            return null;
        }
        String last = argv.get(argv.size() - 1);
        return last.matches("[0-9a-f]{64}") ? last : null;
    }
}
