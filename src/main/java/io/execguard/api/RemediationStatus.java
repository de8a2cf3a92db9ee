package io.execguard.api;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;


/** What the controller did to the Node. Written only by the controller. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"action", "since", "reason", "suppressed", "healthySince"})
public class RemediationStatus {

    @JsonPropertyDescription("The action currently applied to the Node by execguard, in increasing strength: "
            + "None (report only), Annotate (execguard.io/exec-health annotations), Condition (Node condition "
            + "ExecHealthy=False), Taint (execguard.io/exec-unhealthy:NoSchedule), Cordon (spec.unschedulable, "
            + "recorded in execguard.io/cordoned-by). Each includes the weaker ones.")
    private Action action;

    @JsonPropertyDescription("When the current action was applied (RFC 3339, UTC).")
    @JsonSerialize(using = Rfc3339.class)
    private String since;

    @JsonPropertyDescription("Why: the finding types and causes that decided the action, or why the node was "
            + "released (healthy for releaseAfter).")
    private String reason;

    @JsonPropertyDescription("Set when the policy asked for a stronger action than the one applied, naming the "
            + "safety rule that held it back: maxUnhealthy (the policy's cap on nodes marked unhealthy is reached), "
            + "optOut (Node labelled execguard.io/remediation=disabled), dryRun (nothing is changed on Nodes), stale "
            + "(the probe stopped reporting), incident (the storm guard: one backend failing on many nodes, or too "
            + "many of the policy's nodes failing), rateLimit (too many new holds in the last minute), invalidPolicy "
            + "(the policy cannot be read). Absent when the action is what the policy asked for.")
    private Suppression suppressed;

    @JsonPropertyDescription("Since when the node has not needed its current action (RFC 3339, UTC); execguard "
            + "steps down once this is releaseAfter ago. Absent while the action is needed.")
    @JsonSerialize(using = Rfc3339.class)
    private String healthySince;

    public RemediationStatus() {
    }

    public RemediationStatus(Action action, String since, String reason, Suppression suppressed) {
        this(action, since, reason, suppressed, null);
    }

    public RemediationStatus(Action action, String since, String reason, Suppression suppressed, String healthySince) {
        this.action = action;
        this.since = since;
        this.reason = reason;
        this.suppressed = suppressed;
        this.healthySince = healthySince;
    }

    public Action getAction() {
        return action;
    }

    public void setAction(Action action) {
        this.action = action;
    }

    public String getSince() {
        return since;
    }

    public void setSince(String since) {
        this.since = since;
    }

    public String getReason() {
        return reason;
    }

    public void setReason(String reason) {
        this.reason = reason;
    }

    public Suppression getSuppressed() {
        return suppressed;
    }

    public void setSuppressed(Suppression suppressed) {
        this.suppressed = suppressed;
    }

    public String getHealthySince() {
        return healthySince;
    }

    public void setHealthySince(String healthySince) {
        this.healthySince = healthySince;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RemediationStatus r && action == r.action && Objects.equals(since, r.since)
                && Objects.equals(reason, r.reason) && suppressed == r.suppressed
                && Objects.equals(healthySince, r.healthySince);
    }

    @Override
    public int hashCode() {
        return Objects.hash(action, since, reason, suppressed, healthySince);
    }

    @Override
    public String toString() {
        return "RemediationStatus{action=" + action + ", since=" + since + ", reason=" + reason
                + (suppressed == null ? "" : ", suppressed=" + suppressed.value())
                + (healthySince == null ? "" : ", healthySince=" + healthySince) + "}";
    }
}
