package io.execguard.api;

import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Condition;

/**
 * What the probe found on its node. The probe writes every field except {@link #remediation},
 * which belongs to the controller. Empty (null) fields are omitted.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"phase", "conditions", "summary", "findings", "findingsTruncated", "host", "lastProbeTime",
        "probeVersion", "scanDurationMillis", "tasksScanned", "observedScanCount", "repairs", "remediation"})
public class NodeExecHealthStatus {

    /** At most this many findings are listed; the rest are counted in {@code summary} only. */
    public static final int MAX_FINDINGS = 50;

    @JsonPropertyDescription("The node's exec health at a glance. Healthy: no findings. Degraded: findings, none "
            + "of a type the ExecHealthPolicy lists in unhealthyTypes. Unhealthy: at least one finding of such a type "
            + "(by default StuckRuntimeInit, UnkillableTask, PidNamespaceTeardownStuck, PodStuckTerminating). Unknown: "
            + "the probe stopped reporting (set by the controller when lastProbeTime is older than "
            + "staleAfterHeartbeats heartbeats).")
    private Phase phase;

    @JsonPropertyDescription("Standard conditions. ExecHealthy: False while a finding breaks or threatens kubectl "
            + "exec (StuckRuntimeInit, PidsLimitReached, PidNamespaceTeardownStuck, LeakedExecSession, "
            + "PtyExhaustionRisk, PipeBufferExhaustionRisk). KillHealthy: False while a finding breaks kill or pod "
            + "deletion (UnkillableTask, PidNamespaceTeardownStuck, HungTask, PodStuckTerminating). ProbeReporting: "
            + "True while the probe reports every heartbeat, Unknown when its reports are stale. "
            + "lastTransitionTime changes only when status changes.")
    @SchemaFrom(type = ConditionSchema[].class)
    private List<Condition> conditions;

    @JsonPropertyDescription("Counts over all current findings, including those left out of the findings list by "
            + "the cap.")
    private FindingSummary summary;

    @Size(max = MAX_FINDINGS)
    @JsonPropertyDescription("The current findings, most severe first, at most 50 (see findingsTruncated). Each "
            + "names what is stuck (type), why (cause, from the kernel stack), the task (pid, comm, state, wchan, "
            + "kernelStack), its container and pod, and the mount it waits on. A finding stays listed, with the "
            + "same id and firstSeen, for as long as the condition persists, and is dropped once it clears. "
            + "docs/DETECTION.md has the rule and the runbook for every type.")
    private List<ReportedFinding> findings;

    @JsonPropertyDescription("True when there were more than 50 findings and the least severe were left out of "
            + "findings; summary still counts them all.")
    private Boolean findingsTruncated;

    @JsonPropertyDescription("Host facts that frame the findings: kernel, cgroup layout, container runtimes, pty "
            + "and pipe sysctls.")
    private HostStatus host;

    @JsonPropertyDescription("When the probe last reported (RFC 3339, UTC). Updated at least once per heartbeat "
            + "(default 60s) even when nothing changed; a value older than staleAfterHeartbeats heartbeats means "
            + "the probe is not running or cannot reach the API server.")
    @JsonSerialize(using = Rfc3339.class)
    private String lastProbeTime;

    @JsonPropertyDescription("Version of the execguard probe that wrote this status.")
    private String probeVersion;

    @Min(0)
    @JsonPropertyDescription("How long the probe's last scan of /proc and the cgroups took, in milliseconds. A "
            + "scan that takes seconds is itself a symptom: reads of /proc/PID files block on tasks that hold "
            + "kernel locks.")
    private Long scanDurationMillis;

    @Min(0)
    @JsonPropertyDescription("How many tasks (threads) the last scan looked at.")
    private Integer tasksScanned;

    @Min(0)
    @JsonPropertyDescription("Number of scans the probe has completed since it started (optional; resets when the "
            + "probe restarts).")
    private Long observedScanCount;

    @Size(max = 20)
    @JsonPropertyDescription("The probe's most recent node-local repairs (ExecHealthPolicy remediation: "
            + "abortStuckFuse, killLeakedExecSessions), newest first, at most 20; absent when there were none "
            + "since the probe started. Each is also an Event on the Node.")
    private List<NodeRepair> repairs;

    @JsonPropertyDescription("What the execguard controller did to the Node because of this report. Written only "
            + "by the controller; the probe never touches it.")
    private RemediationStatus remediation;

    public Phase getPhase() {
        return phase;
    }

    public void setPhase(Phase phase) {
        this.phase = phase;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    public FindingSummary getSummary() {
        return summary;
    }

    public void setSummary(FindingSummary summary) {
        this.summary = summary;
    }

    public List<ReportedFinding> getFindings() {
        return findings;
    }

    public void setFindings(List<ReportedFinding> findings) {
        this.findings = findings;
    }

    public Boolean getFindingsTruncated() {
        return findingsTruncated;
    }

    public void setFindingsTruncated(Boolean findingsTruncated) {
        this.findingsTruncated = findingsTruncated;
    }

    public HostStatus getHost() {
        return host;
    }

    public void setHost(HostStatus host) {
        this.host = host;
    }

    public String getLastProbeTime() {
        return lastProbeTime;
    }

    public void setLastProbeTime(String lastProbeTime) {
        this.lastProbeTime = lastProbeTime;
    }

    public String getProbeVersion() {
        return probeVersion;
    }

    public void setProbeVersion(String probeVersion) {
        this.probeVersion = probeVersion;
    }

    public Long getScanDurationMillis() {
        return scanDurationMillis;
    }

    public void setScanDurationMillis(Long scanDurationMillis) {
        this.scanDurationMillis = scanDurationMillis;
    }

    public Integer getTasksScanned() {
        return tasksScanned;
    }

    public void setTasksScanned(Integer tasksScanned) {
        this.tasksScanned = tasksScanned;
    }

    public Long getObservedScanCount() {
        return observedScanCount;
    }

    public void setObservedScanCount(Long observedScanCount) {
        this.observedScanCount = observedScanCount;
    }

    public List<NodeRepair> getRepairs() {
        return repairs;
    }

    public void setRepairs(List<NodeRepair> repairs) {
        this.repairs = repairs;
    }

    public RemediationStatus getRemediation() {
        return remediation;
    }

    public void setRemediation(RemediationStatus remediation) {
        this.remediation = remediation;
    }

    /** The condition of the given type, or null. */
    public Condition condition(String type) {
        if (conditions == null) {
            return null;
        }
        for (Condition c : conditions) {
            if (type.equals(c.getType())) {
                return c;
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeExecHealthStatus s && phase == s.phase && Objects.equals(conditions, s.conditions)
                && Objects.equals(summary, s.summary) && Objects.equals(findings, s.findings)
                && Objects.equals(findingsTruncated, s.findingsTruncated) && Objects.equals(host, s.host)
                && Objects.equals(lastProbeTime, s.lastProbeTime) && Objects.equals(probeVersion, s.probeVersion)
                && Objects.equals(scanDurationMillis, s.scanDurationMillis)
                && Objects.equals(tasksScanned, s.tasksScanned)
                && Objects.equals(observedScanCount, s.observedScanCount) && Objects.equals(repairs, s.repairs)
                && Objects.equals(remediation, s.remediation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(phase, conditions, summary, findings, findingsTruncated, host, lastProbeTime, probeVersion,
                scanDurationMillis, tasksScanned, observedScanCount, repairs, remediation);
    }

    @Override
    public String toString() {
        return "NodeExecHealthStatus{phase=" + phase + ", summary=" + summary + ", findings="
                + (findings == null ? 0 : findings.size()) + ", lastProbeTime=" + lastProbeTime
                + ", remediation=" + remediation + "}";
    }
}
