package io.execguard.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import io.execguard.detect.Cause;
import io.execguard.detect.ExecStage;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * One finding as published in {@code NodeExecHealth.status.findings}: every field of the detector's
 * {@link Finding}, under the same names, plus its identity across scans ({@code id}, {@code firstSeen})
 * and the pod it belongs to ({@code podNamespace}, {@code podName}, {@code containerName}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"id", "type", "cause", "severity", "scope", "message", "firstSeen", "ageSeconds", "podNamespace",
        "podName", "containerName", "containerId", "podUid", "pid", "tid", "comm", "state", "wchan", "signalsPending",
        "kernelStack", "cgroup", "mount", "stage", "relatedFinding"})
public class ReportedFinding {

    @Required
    @JsonPropertyDescription("Stable identity of this finding across scans: type, container, pid and the task's start "
            + "time (or the cgroup for cgroup findings). The same condition keeps the same id for as "
            + "long as it lasts; a restarted task gets a new one.")
    private String id;

    @Required
    @JsonPropertyDescription("What is stuck. StuckRuntimeInit: a runc init that never finished, the exec never starts."
            + " UnkillableTask: SIGKILL pending but the task is still there, kill never completes. "
            + "PidNamespaceTeardownStuck: a container's init blocked in zap_pid_ns_processes, kill, pod"
            + " deletion and new execs hang. HungTask: a task in D state past the hung-task threshold. "
            + "PidsLimitReached: a pids cgroup at its limit, exec fails with 'read init-p: connection "
            + "reset by peer'. LeakedExecSession: an exec'd shell left behind by a vanished client. "
            + "PtyExhaustionRisk: kernel.pty.nr close to kernel.pty.max. PipeBufferExhaustionRisk: "
            + "pipes may get a single page, runtime helpers can deadlock. PodStuckTerminating: a pod on"
            + " this node whose deletion is overdue. ExecPathStuck: the probe's exec canary got no answer within its"
            + " deadline. ExecPathSlow: the canary answered slower than its threshold several runs in a row. "
            + "RuntimeUnresponsive: the container runtime's API has not answered a call for this container (its shim)"
            + " within the deadline while it answers for others.")
    private FindingType type;

    @JsonPropertyDescription("Why it is stuck, read from the blocked thread's kernel stack and wchan: FuseRequest (a "
            + "FUSE daemon does not answer), NfsRequest, CephRequest, CifsRequest (a network filesystem"
            + " does not answer), PipeFull (writer blocked on a full pipe), BlockIo (disk I/O), "
            + "PidNamespaceTeardown (waiting for the namespace's other tasks to die), PidsLimit (pids "
            + "cgroup full), Unknown.")
    private Cause cause;

    @Required
    @JsonPropertyDescription("Critical: exec or kill is already failing. Warning: it is at risk.")
    private Severity severity;

    @Required
    @JsonPropertyDescription("Container: the task or cgroup belongs to one container or pod. Node: the node as a whole"
            + " is affected (host tasks, sysctls). Unknown: the task's cgroup could not be read, so whether it is a"
            + " container's is not known; such a finding never taints or cordons a node.")
    private Scope scope;

    @JsonPropertyDescription("One line for humans: what is stuck, on what, for how long, and what it breaks.")
    private String message;

    @JsonPropertyDescription("When the probe first saw this finding (RFC 3339, UTC). Unchanged while the finding "
            + "persists.")
    @JsonSerialize(using = Rfc3339.class)
    private String firstSeen;

    @Min(0)
    @JsonPropertyDescription("How long the task has been stuck, in seconds: since it last ran (se.exec_start) where "
            + "the kernel exposes it, otherwise the task's age; for PodStuckTerminating, time since the"
            + " pod's deletion was due.")
    private Long ageSeconds;

    @JsonPropertyDescription("Namespace of the pod the finding belongs to, from the probe's watch of this node's pods."
            + " Absent for host tasks or when no pod matches the container.")
    private String podNamespace;

    @JsonPropertyDescription("Name of the pod the finding belongs to.")
    private String podName;

    @JsonPropertyDescription("Name of the container in the pod (from the pod's containerStatuses). Absent for "
            + "pod-level findings.")
    private String containerName;

    @JsonPropertyDescription("Container runtime id (64 hex characters) of the affected container, from the task's "
            + "cgroup path or runc's arguments.")
    private String containerId;

    @JsonPropertyDescription("UID of the affected pod, from the cgroup path (kubepods.../pod<uid>/...).")
    private String podUid;

    @Min(0)
    @JsonPropertyDescription("Host PID of the stuck process (as seen from the host's /proc, not the container's).")
    private Integer pid;

    @Min(0)
    @JsonPropertyDescription("Host TID of the blocked thread, when it is not the process's main thread.")
    private Integer tid;

    @JsonPropertyDescription("The process name (/proc/PID/comm), e.g. runc:[2:INIT], sshfs, bash.")
    private String comm;

    @JsonPropertyDescription("Scheduler state of the blocked thread: D (uninterruptible sleep, cannot be killed), S "
            + "(sleeping), R, Z.")
    private String state;

    @JsonPropertyDescription("Kernel function the thread is sleeping in (/proc/PID/wchan), e.g. request_wait_answer, "
            + "zap_pid_ns_processes.")
    private String wchan;

    @JsonPropertyDescription("Signals queued to the thread but not delivered (SigPnd and ShdPnd), e.g. SIGKILL. "
            + "SIGKILL here on a live task means kill is stuck.")
    private List<String> signalsPending;

    @JsonPropertyDescription("The blocked thread's kernel stack (/proc/PID/task/TID/stack), innermost frame first, "
            + "offsets stripped. Needs root on the host; absent where stacks are hidden.")
    private List<String> kernelStack;

    @JsonPropertyDescription("The task's cgroup path, or for PidsLimitReached the pids cgroup at its limit.")
    private String cgroup;

    @JsonPropertyDescription("The filesystem the task waits on, for FuseRequest, NfsRequest, CephRequest and "
            + "CifsRequest causes.")
    private MountStatus mount;

    @JsonPropertyDescription("For ExecPathStuck: where the exec canary stopped. RuntimeCall: the runtime's daemon has "
            + "not handed the exec to the container's shim. Shim: the container's shim is stopped or blocked. "
            + "RuncInit: runc exec / runc init did not finish, the process never started. ProcessStart: the process "
            + "started and did not finish. Output: it finished, the answer was not delivered.")
    private ExecStage stage;

    @JsonPropertyDescription("The id of another finding of this report that explains this one, e.g. the "
            + "StuckRuntimeInit of the canary's own runc init for an ExecPathStuck.")
    private String relatedFinding;

    public ReportedFinding() {
    }

    /**
     * The status form of a detector finding with its identity across scans. Pod attribution
     * ({@link #setPod}) is left to the caller.
     */
    public static ReportedFinding from(Finding f, String id, Instant firstSeen) {
        ReportedFinding r = new ReportedFinding();
        r.id = id;
        r.type = f.type();
        r.cause = f.cause();
        r.severity = f.severity();
        r.scope = f.scope();
        r.message = f.message();
        r.firstSeen = firstSeen == null ? null : firstSeen.toString();
        r.ageSeconds = f.ageSeconds();
        r.containerId = f.containerId();
        r.podUid = f.podUid();
        r.pid = f.pid();
        r.tid = f.tid();
        r.comm = f.comm();
        r.state = f.state();
        r.wchan = f.wchan();
        r.signalsPending = nonEmpty(f.signalsPending());
        r.kernelStack = nonEmpty(f.kernelStack());
        r.cgroup = f.cgroup();
        r.mount = MountStatus.from(f.mount());
        r.stage = f.stage();
        r.relatedFinding = f.relatedFinding();
        return r;
    }

    private static List<String> nonEmpty(List<String> l) {
        return l == null || l.isEmpty() ? null : List.copyOf(l);
    }

    /** Sets the pod attribution (any argument may be null) and returns this. */
    public ReportedFinding setPod(String namespace, String name, String container) {
        this.podNamespace = namespace;
        this.podName = name;
        this.containerName = container;
        return this;
    }


    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }


    public FindingType getType() {
        return type;
    }

    public void setType(FindingType type) {
        this.type = type;
    }


    public Cause getCause() {
        return cause;
    }

    public void setCause(Cause cause) {
        this.cause = cause;
    }


    public Severity getSeverity() {
        return severity;
    }

    public void setSeverity(Severity severity) {
        this.severity = severity;
    }


    public Scope getScope() {
        return scope;
    }

    public void setScope(Scope scope) {
        this.scope = scope;
    }


    public String getMessage() {
        return message;
    }

    public void setMessage(String message) {
        this.message = message;
    }


    public String getFirstSeen() {
        return firstSeen;
    }

    public void setFirstSeen(String firstSeen) {
        this.firstSeen = firstSeen;
    }


    public Long getAgeSeconds() {
        return ageSeconds;
    }

    public void setAgeSeconds(Long ageSeconds) {
        this.ageSeconds = ageSeconds;
    }


    public String getPodNamespace() {
        return podNamespace;
    }

    public void setPodNamespace(String podNamespace) {
        this.podNamespace = podNamespace;
    }


    public String getPodName() {
        return podName;
    }

    public void setPodName(String podName) {
        this.podName = podName;
    }


    public String getContainerName() {
        return containerName;
    }

    public void setContainerName(String containerName) {
        this.containerName = containerName;
    }


    public String getContainerId() {
        return containerId;
    }

    public void setContainerId(String containerId) {
        this.containerId = containerId;
    }


    public String getPodUid() {
        return podUid;
    }

    public void setPodUid(String podUid) {
        this.podUid = podUid;
    }


    public Integer getPid() {
        return pid;
    }

    public void setPid(Integer pid) {
        this.pid = pid;
    }


    public Integer getTid() {
        return tid;
    }

    public void setTid(Integer tid) {
        this.tid = tid;
    }


    public String getComm() {
        return comm;
    }

    public void setComm(String comm) {
        this.comm = comm;
    }


    public String getState() {
        return state;
    }

    public void setState(String state) {
        this.state = state;
    }


    public String getWchan() {
        return wchan;
    }

    public void setWchan(String wchan) {
        this.wchan = wchan;
    }


    public List<String> getSignalsPending() {
        return signalsPending;
    }

    public void setSignalsPending(List<String> signalsPending) {
        this.signalsPending = signalsPending;
    }


    public List<String> getKernelStack() {
        return kernelStack;
    }

    public void setKernelStack(List<String> kernelStack) {
        this.kernelStack = kernelStack;
    }


    public String getCgroup() {
        return cgroup;
    }

    public void setCgroup(String cgroup) {
        this.cgroup = cgroup;
    }


    public ExecStage getStage() {
        return stage;
    }

    public void setStage(ExecStage stage) {
        this.stage = stage;
    }

    public String getRelatedFinding() {
        return relatedFinding;
    }

    public void setRelatedFinding(String relatedFinding) {
        this.relatedFinding = relatedFinding;
    }

    public MountStatus getMount() {
        return mount;
    }

    public void setMount(MountStatus mount) {
        this.mount = mount;
    }


    @Override
    public boolean equals(Object o) {
        return o instanceof ReportedFinding r
                && Objects.equals(id, r.id)
                && type == r.type
                && cause == r.cause
                && severity == r.severity
                && scope == r.scope
                && Objects.equals(message, r.message)
                && Objects.equals(firstSeen, r.firstSeen)
                && Objects.equals(ageSeconds, r.ageSeconds)
                && Objects.equals(podNamespace, r.podNamespace)
                && Objects.equals(podName, r.podName)
                && Objects.equals(containerName, r.containerName)
                && Objects.equals(containerId, r.containerId)
                && Objects.equals(podUid, r.podUid)
                && Objects.equals(pid, r.pid)
                && Objects.equals(tid, r.tid)
                && Objects.equals(comm, r.comm)
                && Objects.equals(state, r.state)
                && Objects.equals(wchan, r.wchan)
                && Objects.equals(signalsPending, r.signalsPending)
                && Objects.equals(kernelStack, r.kernelStack)
                && Objects.equals(cgroup, r.cgroup)
                && Objects.equals(mount, r.mount)
                && Objects.equals(stage, r.stage)
                && Objects.equals(relatedFinding, r.relatedFinding);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, type, cause, severity, scope, message, firstSeen, ageSeconds, podNamespace, podName,
                containerName, containerId, podUid, pid, tid, comm, state, wchan, signalsPending, kernelStack, cgroup,
                mount, stage, relatedFinding);
    }

    @Override
    public String toString() {
        return "ReportedFinding{" + id + " " + type + "/" + cause + " " + severity + " " + scope + ": " + message + "}";
    }
}
