package io.execguard.api;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import io.fabric8.generator.annotation.Pattern;

/** What the controller did to the Node. Written only by the controller. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"action", "since", "reason", "suppressed"})
public class RemediationStatus {

    /** {@link #getSuppressed()} value: the fleet-wide cap on held nodes was reached. */
    public static final String SUPPRESSED_MAX_UNHEALTHY = "maxUnhealthy";
    /** {@link #getSuppressed()} value: the Node is labelled {@code execguard.io/remediation=disabled}. */
    public static final String SUPPRESSED_OPT_OUT = "optOut";
    /** {@link #getSuppressed()} value: the policy is in dry-run mode. */
    public static final String SUPPRESSED_DRY_RUN = "dryRun";
    /** The probe has not reported for staleAfterHeartbeats: nothing new, nothing released. */
    public static final String SUPPRESSED_STALE = "stale";
    /** {@link #getSuppressed()} value: the node's findings belong to a multi-node incident (one shared backend). */
    public static final String SUPPRESSED_INCIDENT = "incident";

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
            + "safety rule that held it back: maxUnhealthy (too many nodes already held), optOut (Node labelled "
            + "execguard.io/remediation=disabled), dryRun (policy dryRun: nothing is changed on Nodes), incident "
            + "(one backend failing on many nodes). Absent when the action is what the policy asked for.")
    @Pattern("^(" + SUPPRESSED_MAX_UNHEALTHY + "|" + SUPPRESSED_OPT_OUT + "|" + SUPPRESSED_DRY_RUN + "|"
            + SUPPRESSED_STALE + "|" + SUPPRESSED_INCIDENT + ")$")
    private String suppressed;

    public RemediationStatus() {
    }

    public RemediationStatus(Action action, String since, String reason, String suppressed) {
        this.action = action;
        this.since = since;
        this.reason = reason;
        this.suppressed = suppressed;
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

    public String getSuppressed() {
        return suppressed;
    }

    public void setSuppressed(String suppressed) {
        this.suppressed = suppressed;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RemediationStatus r && action == r.action && Objects.equals(since, r.since)
                && Objects.equals(reason, r.reason) && Objects.equals(suppressed, r.suppressed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(action, since, reason, suppressed);
    }

    @Override
    public String toString() {
        return "RemediationStatus{action=" + action + ", since=" + since + ", reason=" + reason
                + (suppressed == null ? "" : ", suppressed=" + suppressed) + "}";
    }
}
