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
 * The exec canary's findings. {@link FindingType#ExecPathStuck} (Critical, node scope) while a canary run is past its
 * deadline, until a later run answers in time, with the {@link ExecStage} it stopped at, read from the passive scan
 * and the canary's view of its shim, outermost evidence last:
 * <ol>
 *   <li>a {@code runc init} (or {@code runc exec}) of the canary's container is alive: {@link ExecStage#RuncInit};
 *       its cause is that of the {@link FindingType#StuckRuntimeInit} of the same task when the scan has one</li>
 *   <li>the container's shim is stopped (T) or blocked (D): {@link ExecStage#Shim}</li>
 *   <li>the canary's process is alive under the shim: {@link ExecStage#ProcessStart}; finished (a zombie) but no
 *       answer: {@link ExecStage#Output}</li>
 *   <li>nothing below the runtime's daemon works on it: {@link ExecStage#RuntimeCall}</li>
 * </ol>
 * Once the stuck run has ended (a late answer, or abandoned), the finding keeps the stage it last had.
 * {@link FindingType#ExecPathSlow} (Warning, node scope, no stage: the canary's latency does not say which step was
 * slow) after {@code slowRunsNeeded} answered runs in a row above the slow threshold. Pure.
 */
public final class ExecPathRules {

    private final CauseRules rules;

    public ExecPathRules(CauseRules rules) {
        this.rules = rules;
    }

    public List<Finding> findings(CanaryObservation o, HostSnapshot s, List<Finding> earlier) {
        List<Finding> out = new ArrayList<>(1);
        if (o.stuckSeconds() != null) {
            out.add(stuck(o, s, earlier));
        } else if (o.slowRunsNeeded() > 0 && o.slowRuns() >= o.slowRunsNeeded()) {
            out.add(slow(o));
        }
        return out;
    }

    /** The stage and the task it waits in, for a stuck run. */
    record Where(ExecStage stage, CanaryObservation.Task task, ProcessSnapshot process, ThreadSnapshot thread,
                 Finding runtimeInit) {
    }

    Where where(CanaryObservation o, HostSnapshot s, List<Finding> earlier) {
        if (!o.stuckInFlight()) {
            return new Where(o.lastStage() == null ? ExecStage.RuntimeCall : o.lastStage(), null, null, null, null);
        }
        Map<Integer, ProcessSnapshot> byPid = s.processes().stream()
                .collect(Collectors.toMap(ProcessSnapshot::pid, Function.identity(), (a, b) -> a));
        ProcessSnapshot init = null;
        ProcessSnapshot exec = null;
        for (ProcessSnapshot p : s.processes()) {
            boolean isInit = RuntimeNames.isRuncInitComm(p.comm()) || RuntimeNames.isRuncInitArgv(p.argv());
            if (isInit && (o.containerId().equals(p.containerId())
                    || o.containerId().equals(StuckRuntimeInitDetector.containerFromParent(byPid.get(p.ppid()))))) {
                init = init == null || p.ageSeconds() > init.ageSeconds() ? p : init;
            } else if (RuntimeNames.isRuncExecArgv(p.argv()) && o.containerId().equals(last(p.argv()))) {
                exec = exec == null || p.ageSeconds() > exec.ageSeconds() ? p : exec;
            }
        }
        ProcessSnapshot runc = init != null ? init : exec;
        if (runc != null) {
            ThreadSnapshot t = rules.blockedThread(runc.threads());
            if (t == null) {
                t = runc.mainThread();
            }
            Finding sri = null;
            for (Finding f : earlier) {
                if (f.type() == FindingType.StuckRuntimeInit && f.pid() != null && f.pid() == runc.pid()) {
                    sri = f;
                }
            }
            return new Where(ExecStage.RuncInit, null, runc, t, sri);
        }
        if (o.shim() != null && o.shim().stoppedOrBlocked()) {
            return new Where(ExecStage.Shim, o.shim(), null, null, null);
        }
        if (o.canaryTask() != null) {
            return new Where(o.canaryTask().state() == 'Z' ? ExecStage.Output : ExecStage.ProcessStart, o.canaryTask(),
                    null, null, null);
        }
        return new Where(ExecStage.RuntimeCall, null, null, null, null);
    }

    private Finding stuck(CanaryObservation o, HostSnapshot s, List<Finding> earlier) {
        Where w = where(o, s, earlier);
        String waited = Evidence.duration(o.stuckSeconds());
        String deadline = Evidence.duration(o.deadlineSeconds());
        String head = "the exec canary into the probe's " + Evidence.shortId(o.containerId())
                + (o.stuckInFlight() ? " has had no answer for " + waited + " (deadline " + deadline + ")"
                : " got no answer within its deadline (" + deadline + ") and no run has answered in time since, "
                + waited + " ago");
        Cause cause = Cause.Unknown;
        Integer pid = null;
        String comm = null;
        String state = null;
        String wchan = null;
        List<String> stack = List.of();
        String detail = !o.stuckInFlight() ? ": it last stood at " + w.stage() : switch (w.stage()) {
            case RuncInit -> {
                cause = w.runtimeInit() != null ? w.runtimeInit().cause() : rules.classify(w.thread());
                pid = w.process().pid();
                comm = w.thread().comm();
                state = String.valueOf(w.thread().state());
                wchan = w.thread().wchan();
                stack = w.thread().kernelStack();
                yield ": it stopped at runc (" + w.process().comm() + ", pid " + w.process().pid() + ", state "
                        + w.thread().state() + (wchan == null ? "" : " in " + wchan) + ")"
                        + (w.runtimeInit() != null ? ", the StuckRuntimeInit of the same task names the cause ("
                        + cause + ")" : ", the process it runs for never started");
            }
            case Shim -> {
                pid = w.task().pid();
                comm = w.task().comm();
                state = String.valueOf(w.task().state());
                wchan = w.task().wchan();
                yield ": it stopped at the container's shim (pid " + w.task().pid() + ", state " + w.task().state()
                        + (w.task().state() == 'D' ? ", blocked in the kernel" : ", stopped by a signal or a tracer")
                        + "), which every exec, kill and status call of the pod goes through";
            }
            case ProcessStart, Output -> {
                pid = w.task().pid();
                comm = w.task().comm();
                state = String.valueOf(w.task().state());
                wchan = w.task().wchan();
                yield w.stage() == ExecStage.Output
                        ? ": its process (pid " + w.task().pid() + ") has finished but the runtime has not delivered "
                        + "the answer"
                        : ": its process (pid " + w.task().pid() + ", state " + w.task().state() + ") started and has "
                        + "not finished";
            }
            case RuntimeCall -> ": no shim, runc or canary process works on it, so the runtime's daemon has not "
                    + "handed it on" + (o.daemon() == null ? ""
                    : o.daemon().answered() ? " (it answers CRI Version, in " + millis(o.daemon().seconds())
                    + ": the daemon is up but this exec does not progress)"
                    : " and it does not answer CRI Version either (no answer in " + millis(o.daemon().waitSeconds())
                    + "): the runtime is unresponsive");
        };
        String msg = head + detail + "; exec probes and kubectl exec on this node are likely to hang the same way.";
        return new Finding(FindingType.ExecPathStuck, cause, Severity.Critical, Scope.Node, msg, pid, null, comm,
                state, wchan, stack, List.of(), Math.round(o.stuckSeconds()), o.containerId(), null, null, null,
                w.stage(), null);
    }

    private static Finding slow(CanaryObservation o) {
        String msg = "the exec canary into the probe's " + Evidence.shortId(o.containerId()) + " took more than "
                + Evidence.duration(o.slowSeconds()) + " " + o.slowRuns() + " runs in a row (last "
                + String.format(java.util.Locale.ROOT, "%.2fs", o.lastLatencySeconds())
                + "): execs on this node are slow; see the runtime's daemon and shim CPU, and the node's load.";
        return new Finding(FindingType.ExecPathSlow, Cause.Unknown, Severity.Warning, Scope.Node, msg, null, null,
                null, null, null, List.of(), List.of(), null, o.containerId(), null, null, null, null, null);
    }

    private static String millis(double seconds) {
        return Math.round(seconds * 1000) + " ms";
    }

    private static String last(List<String> argv) {
        return argv.isEmpty() ? null : argv.get(argv.size() - 1);
    }
}
