package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.RuntimeNames;

/**
 * {@link FindingType#RuntimeUnresponsive} (Warning, container scope): the runtime's API has not answered a call for
 * one container within the deadline (the sweep's call that reaches the container's shim), while the runtime's daemon
 * itself answers. One finding per such container, with its container id and pod uid, and the shim with its state:
 * the one the sweep read (the parent of the container's init), else the scan's shim process whose {@code -id} is the
 * container's sandbox. None while the daemon does not
 * answer: that is the daemon's problem, not each container's (the canary's {@link FindingType#ExecPathStuck} at
 * {@link ExecStage#RuntimeCall} says it). Cleared when the container's call answers again or the container is gone
 * (the sweep drops it). Pure.
 */
public final class RuntimeCallRules {

    public List<Finding> findings(RuntimeCallObservation o, HostSnapshot s) {
        if (o == null || !o.runtimeAnswers()) {
            return List.of();
        }
        List<Finding> out = new ArrayList<>(o.unanswered().size());
        for (RuntimeCallObservation.Unanswered u : o.unanswered()) {
            if (u.unansweredSeconds() >= o.deadlineSeconds()) {
                out.add(finding(o, u, u.shim() != null ? u.shim() : task(shim(s, u.sandboxId()))));
            }
        }
        return out;
    }

    private static String id12(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /** The shim serving the sandbox: a shim process with {@code -id <sandbox>} in its argv (containerd's runc v2). */
    static ProcessSnapshot shim(HostSnapshot s, String sandboxId) {
        if (sandboxId == null || sandboxId.isEmpty()) {
            return null;
        }
        for (ProcessSnapshot p : s.processes()) {
            if (!RuntimeNames.isShim(p.comm())) {
                continue;
            }
            List<String> argv = p.argv();
            int i = argv.indexOf("-id");
            if (i >= 0 && i + 1 < argv.size() && argv.get(i + 1).equals(sandboxId)) {
                return p;
            }
        }
        return null;
    }

    private static CanaryObservation.Task task(ProcessSnapshot p) {
        return p == null ? null : new CanaryObservation.Task(p.pid(), p.comm(), p.mainThread().state(),
                p.mainThread().wchan());
    }

    private static Finding finding(RuntimeCallObservation o, RuntimeCallObservation.Unanswered u,
                                   CanaryObservation.Task shim) {
        String who = "container " + (u.containerName() == null ? "" : u.containerName() + " ")
                + "(" + id12(u.containerId()) + ")" + (u.podName() == null ? "" : " of pod " + u.podName());
        String head = "the container runtime has not answered " + u.call() + " for " + who + " for "
                + Evidence.duration(u.unansweredSeconds()) + " (" + u.calls() + " call" + (u.calls() == 1 ? "" : "s")
                + " in a row, deadline " + Evidence.duration(o.deadlineSeconds()) + ") while it answers for other "
                + "containers: exec, kubectl exec, exec probes and stop of this container are likely to hang";
        String where;
        Integer pid = null;
        String comm = null;
        String state = null;
        String wchan = null;
        if (shim != null) {
            char st = shim.state();
            pid = shim.pid();
            comm = shim.comm();
            state = String.valueOf(st);
            wchan = shim.wchan();
            where = "; its shim is pid " + shim.pid() + " (state " + st
                    + (st == 'T' || st == 't' ? ", stopped by a signal or a tracer: SIGCONT it or find the tracer"
                    : st == 'D' ? ", blocked in the kernel" + (wchan == null ? "" : " in " + wchan)
                    : "") + "): look at its threads' stacks (/proc/" + shim.pid() + "/task/*/stack) and at the "
                    + "container's runc processes.";
        } else if (u.sandboxId() != null && !u.sandboxId().isEmpty()) {
            where = "; its shim (containerd-shim -id " + id12(u.sandboxId()) + "..., the pod's sandbox) was not found "
                    + "in the scan: look for it by that -id argument (ps -eo pid,stat,args | grep " + id12(u.sandboxId())
                    + ").";
        } else {
            where = "; the runtime named no sandbox for it, so its shim is not known: look for the shim whose children "
                    + "are the container's processes.";
        }
        return new Finding(FindingType.RuntimeUnresponsive, Cause.Unknown, Severity.Warning, Scope.Container,
                head + where, pid, null, comm, state, wchan, List.of(), List.of(), Math.round(u.unansweredSeconds()),
                u.containerId(), u.podUid(), null, null);
    }
}
