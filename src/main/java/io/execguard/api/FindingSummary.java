package io.execguard.api;

import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.fabric8.generator.annotation.Min;

/** Counts over all current findings of a node, including those the findings cap left out. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"stuckExec", "stuckKill", "byType", "topCause"})
public class FindingSummary {

    @Min(0)
    @JsonPropertyDescription("Findings that break or threaten kubectl exec on this node: StuckRuntimeInit, "
            + "PidsLimitReached, PidNamespaceTeardownStuck, LeakedExecSession, PtyExhaustionRisk, "
            + "PipeBufferExhaustionRisk.")
    private Integer stuckExec;

    @Min(0)
    @JsonPropertyDescription("Findings that break kill and pod deletion on this node: UnkillableTask, "
            + "PidNamespaceTeardownStuck, HungTask, PodStuckTerminating.")
    private Integer stuckKill;

    @JsonPropertyDescription("Number of findings by type (StuckRuntimeInit, UnkillableTask, ...). Types with no "
            + "finding are absent.")
    private Map<String, Integer> byType;

    @JsonPropertyDescription("The cause of the most severe finding (FuseRequest, NfsRequest, CephRequest, "
            + "CifsRequest, PipeFull, BlockIo, PidNamespaceTeardown, PidsLimit), or its type when the cause is "
            + "Unknown. Absent when the node has no findings.")
    private String topCause;

    public FindingSummary() {
    }

    public FindingSummary(Integer stuckExec, Integer stuckKill, Map<String, Integer> byType, String topCause) {
        this.stuckExec = stuckExec;
        this.stuckKill = stuckKill;
        this.byType = byType;
        this.topCause = topCause;
    }

    public Integer getStuckExec() {
        return stuckExec;
    }

    public void setStuckExec(Integer stuckExec) {
        this.stuckExec = stuckExec;
    }

    public Integer getStuckKill() {
        return stuckKill;
    }

    public void setStuckKill(Integer stuckKill) {
        this.stuckKill = stuckKill;
    }

    public Map<String, Integer> getByType() {
        return byType;
    }

    public void setByType(Map<String, Integer> byType) {
        this.byType = byType;
    }

    public String getTopCause() {
        return topCause;
    }

    public void setTopCause(String topCause) {
        this.topCause = topCause;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FindingSummary s && Objects.equals(stuckExec, s.stuckExec)
                && Objects.equals(stuckKill, s.stuckKill) && Objects.equals(byType, s.byType)
                && Objects.equals(topCause, s.topCause);
    }

    @Override
    public int hashCode() {
        return Objects.hash(stuckExec, stuckKill, byType, topCause);
    }

    @Override
    public String toString() {
        return "FindingSummary{stuckExec=" + stuckExec + ", stuckKill=" + stuckKill + ", byType=" + byType
                + ", topCause=" + topCause + "}";
    }
}
