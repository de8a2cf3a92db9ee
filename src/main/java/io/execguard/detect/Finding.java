package io.execguard.detect;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One stuck exec or kill condition with its evidence. This shape is the report's and, later, the
 * NodeExecHealth status's: names are stable. Absent values are omitted from JSON.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"type", "cause", "severity", "scope", "message", "pid", "tid", "comm", "state", "wchan",
        "kernelStack", "signalsPending", "ageSeconds", "containerId", "podUid", "cgroup", "mount", "stage",
        "relatedFinding"})
public record Finding(FindingType type, Cause cause, Severity severity, Scope scope, String message, Integer pid,
                      Integer tid, String comm, String state, String wchan, List<String> kernelStack,
                      List<String> signalsPending, Long ageSeconds, String containerId, String podUid,
                      String cgroup, MountRef mount, ExecStage stage, String relatedFinding) {

    /** A finding of the passive scan: no exec stage, no related finding. */
    public Finding(FindingType type, Cause cause, Severity severity, Scope scope, String message, Integer pid,
                   Integer tid, String comm, String state, String wchan, List<String> kernelStack,
                   List<String> signalsPending, Long ageSeconds, String containerId, String podUid,
                   String cgroup, MountRef mount) {
        this(type, cause, severity, scope, message, pid, tid, comm, state, wchan, kernelStack, signalsPending,
                ageSeconds, containerId, podUid, cgroup, mount, null, null);
    }

    /** This finding linked to another one by its tracked id (e.g. the canary's stuck runc init). */
    public Finding withRelatedFinding(String id) {
        return new Finding(type, cause, severity, scope, message, pid, tid, comm, state, wchan, kernelStack,
                signalsPending, ageSeconds, containerId, podUid, cgroup, mount, stage, id);
    }
}
