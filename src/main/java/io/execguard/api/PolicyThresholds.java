package io.execguard.api;

import static io.execguard.api.PolicyDefaults.*;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.execguard.detect.Thresholds;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** When a suspicious task becomes a finding. Absent fields take the defaults of {@link PolicyDefaults}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"stuckRuntimeInitSeconds", "unkillableTaskSeconds", "pidNamespaceTeardownSeconds", "hungTaskSeconds",
        "leakedExecSessionSeconds", "podStuckTerminatingSeconds", "pidsPercent", "ptyPercent", "pipeUserPagesSoftMin"})
public class PolicyThresholds {

    @Min(0)
    @JsonPropertyDescription("Seconds a runc init (runc:[0:PARENT], runc:[1:CHILD], runc:[2:INIT]) may live before it "
            + "is a StuckRuntimeInit finding. runc's init stages normally last milliseconds. Default: "
            + STUCK_RUNTIME_INIT_SECONDS + ".")
    private Long stuckRuntimeInitSeconds;

    @Min(0)
    @JsonPropertyDescription("Seconds a thread with SIGKILL pending may go without running before it is an "
            + "UnkillableTask finding. Default: " + UNKILLABLE_TASK_SECONDS + ".")
    private Long unkillableTaskSeconds;

    @Min(0)
    @JsonPropertyDescription("Seconds a container's init may block in zap_pid_ns_processes (waiting for the rest of "
            + "its pid namespace to die) before it is a PidNamespaceTeardownStuck finding. Default: "
            + PID_NAMESPACE_TEARDOWN_SECONDS + ".")
    private Long pidNamespaceTeardownSeconds;

    @Min(0)
    @JsonPropertyDescription("Seconds a user task may stay in D state without being scheduled (context-switch "
            + "counters unchanged across scans) before it is a HungTask finding; the kernel's hung_task_timeout_secs "
            + "uses the same default. Default: " + HUNG_TASK_SECONDS + ".")
    private Long hungTaskSeconds;

    @Min(0)
    @JsonPropertyDescription("Seconds an exec'd process with an idle terminal may live before it is a "
            + "LeakedExecSession finding. Default: " + LEAKED_EXEC_SESSION_SECONDS + ".")
    private Long leakedExecSessionSeconds;

    @Min(0)
    @JsonPropertyDescription("Seconds past a pod's deletion timestamp (which the API server sets to the end of "
            + "its grace period) before the pod is a PodStuckTerminating finding. Default: " + POD_STUCK_TERMINATING_SECONDS + ".")
    private Long podStuckTerminatingSeconds;

    @Min(1)
    @Max(100)
    @JsonPropertyDescription("A pids cgroup whose pids.current reaches this percentage of pids.max is a "
            + "PidsLimitReached Warning (Critical at the limit). Refused forks (pids.events max) are a Warning too, "
            + "reported by the probe until that counter has stood still for 10 minutes. Default: "
            + PIDS_PERCENT + ".")
    private Integer pidsPercent;

    @Min(1)
    @Max(100)
    @JsonPropertyDescription("kernel.pty.nr at or above this percentage of the ptys containers may use "
            + "(kernel.pty.max - kernel.pty.reserve) is a PtyExhaustionRisk Warning; at that limit it is Critical. "
            + "Default: " + PTY_PERCENT + ".")
    private Integer ptyPercent;

    @Min(0)
    @JsonPropertyDescription("fs.pipe-user-pages-soft set below this many pages (and not 0, which means unlimited) is "
            + "a PipeBufferExhaustionRisk finding. Default: " + PIPE_USER_PAGES_SOFT_MIN + ".")
    private Long pipeUserPagesSoftMin;

    /** A copy with absent fields taken from {@code defaults} (which must be fully populated). */
    PolicyThresholds withDefaults(PolicyThresholds d) {
        PolicyThresholds t = new PolicyThresholds();
        t.stuckRuntimeInitSeconds = or(stuckRuntimeInitSeconds, d.stuckRuntimeInitSeconds);
        t.unkillableTaskSeconds = or(unkillableTaskSeconds, d.unkillableTaskSeconds);
        t.pidNamespaceTeardownSeconds = or(pidNamespaceTeardownSeconds, d.pidNamespaceTeardownSeconds);
        t.hungTaskSeconds = or(hungTaskSeconds, d.hungTaskSeconds);
        t.leakedExecSessionSeconds = or(leakedExecSessionSeconds, d.leakedExecSessionSeconds);
        t.podStuckTerminatingSeconds = or(podStuckTerminatingSeconds, d.podStuckTerminatingSeconds);
        t.pidsPercent = or(pidsPercent, d.pidsPercent);
        t.ptyPercent = or(ptyPercent, d.ptyPercent);
        t.pipeUserPagesSoftMin = or(pipeUserPagesSoftMin, d.pipeUserPagesSoftMin);
        return t;
    }

    private static <T> T or(T v, T d) {
        return v != null ? v : d;
    }

    /** The detectors' thresholds; absent fields take their defaults. */
    public Thresholds toDetectorThresholds() {
        PolicyThresholds t = withDefaults(PolicyDefaults.thresholds());
        return new Thresholds(t.stuckRuntimeInitSeconds, t.unkillableTaskSeconds, t.pidNamespaceTeardownSeconds,
                t.hungTaskSeconds, t.leakedExecSessionSeconds, t.pidsPercent / 100.0, t.ptyPercent / 100.0,
                t.pipeUserPagesSoftMin);
    }

    public Long getStuckRuntimeInitSeconds() {
        return stuckRuntimeInitSeconds;
    }

    public void setStuckRuntimeInitSeconds(Long stuckRuntimeInitSeconds) {
        this.stuckRuntimeInitSeconds = stuckRuntimeInitSeconds;
    }

    public Long getUnkillableTaskSeconds() {
        return unkillableTaskSeconds;
    }

    public void setUnkillableTaskSeconds(Long unkillableTaskSeconds) {
        this.unkillableTaskSeconds = unkillableTaskSeconds;
    }

    public Long getPidNamespaceTeardownSeconds() {
        return pidNamespaceTeardownSeconds;
    }

    public void setPidNamespaceTeardownSeconds(Long pidNamespaceTeardownSeconds) {
        this.pidNamespaceTeardownSeconds = pidNamespaceTeardownSeconds;
    }

    public Long getHungTaskSeconds() {
        return hungTaskSeconds;
    }

    public void setHungTaskSeconds(Long hungTaskSeconds) {
        this.hungTaskSeconds = hungTaskSeconds;
    }

    public Long getLeakedExecSessionSeconds() {
        return leakedExecSessionSeconds;
    }

    public void setLeakedExecSessionSeconds(Long leakedExecSessionSeconds) {
        this.leakedExecSessionSeconds = leakedExecSessionSeconds;
    }

    public Long getPodStuckTerminatingSeconds() {
        return podStuckTerminatingSeconds;
    }

    public void setPodStuckTerminatingSeconds(Long podStuckTerminatingSeconds) {
        this.podStuckTerminatingSeconds = podStuckTerminatingSeconds;
    }

    public Integer getPidsPercent() {
        return pidsPercent;
    }

    public void setPidsPercent(Integer pidsPercent) {
        this.pidsPercent = pidsPercent;
    }

    public Integer getPtyPercent() {
        return ptyPercent;
    }

    public void setPtyPercent(Integer ptyPercent) {
        this.ptyPercent = ptyPercent;
    }

    public Long getPipeUserPagesSoftMin() {
        return pipeUserPagesSoftMin;
    }

    public void setPipeUserPagesSoftMin(Long pipeUserPagesSoftMin) {
        this.pipeUserPagesSoftMin = pipeUserPagesSoftMin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PolicyThresholds t && Objects.equals(stuckRuntimeInitSeconds, t.stuckRuntimeInitSeconds)
                && Objects.equals(unkillableTaskSeconds, t.unkillableTaskSeconds)
                && Objects.equals(pidNamespaceTeardownSeconds, t.pidNamespaceTeardownSeconds)
                && Objects.equals(hungTaskSeconds, t.hungTaskSeconds)
                && Objects.equals(leakedExecSessionSeconds, t.leakedExecSessionSeconds)
                && Objects.equals(podStuckTerminatingSeconds, t.podStuckTerminatingSeconds)
                && Objects.equals(pidsPercent, t.pidsPercent) && Objects.equals(ptyPercent, t.ptyPercent)
                && Objects.equals(pipeUserPagesSoftMin, t.pipeUserPagesSoftMin);
    }

    @Override
    public int hashCode() {
        return Objects.hash(stuckRuntimeInitSeconds, unkillableTaskSeconds, pidNamespaceTeardownSeconds, hungTaskSeconds,
                leakedExecSessionSeconds, podStuckTerminatingSeconds, pidsPercent, ptyPercent, pipeUserPagesSoftMin);
    }

    @Override
    public String toString() {
        return "PolicyThresholds{stuckRuntimeInitSeconds=" + stuckRuntimeInitSeconds + ", unkillableTaskSeconds="
                + unkillableTaskSeconds + ", pidNamespaceTeardownSeconds=" + pidNamespaceTeardownSeconds
                + ", hungTaskSeconds=" + hungTaskSeconds + ", leakedExecSessionSeconds=" + leakedExecSessionSeconds
                + ", podStuckTerminatingSeconds=" + podStuckTerminatingSeconds + ", pidsPercent=" + pidsPercent
                + ", ptyPercent=" + ptyPercent + ", pipeUserPagesSoftMin=" + pipeUserPagesSoftMin + "}";
    }
}
