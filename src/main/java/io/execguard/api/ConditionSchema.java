package io.execguard.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * Schema only, never instantiated: the documented CRD schema of the fabric8
 * {@link io.fabric8.kubernetes.api.model.Condition} items in {@code status.conditions} (fabric8's
 * model carries no descriptions). Fields mirror {@code Condition} one for one; a test keeps them in
 * step. Used through {@code @SchemaFrom(type = ConditionSchema[].class)}.
 */
public final class ConditionSchema {

    @Required
    @JsonPropertyDescription("The condition's type, in CamelCase, e.g. ExecHealthy, KillHealthy, ProbeReporting on a "
            + "NodeExecHealth.")
    public String type;

    @Required
    @JsonPropertyDescription("True, False or Unknown.")
    public ConditionStatus status;

    @JsonPropertyDescription("When status last changed (RFC 3339, UTC). Kept when the condition is rewritten with "
            + "the same status.")
    @JsonSerialize(using = Rfc3339.class)
    public String lastTransitionTime;

    @JsonPropertyDescription("One CamelCase word for the current status, for tools to match on, e.g. "
            + "StuckRuntimeInit, FuseRequest, NoFindings, ReportStale.")
    public String reason;

    @JsonPropertyDescription("What it means for a human, e.g. which findings hold the condition False.")
    public String message;

    @Min(0)
    @JsonPropertyDescription("The metadata.generation the condition was computed from.")
    public Long observedGeneration;

    /** The allowed values of a condition's status. */
    public enum ConditionStatus {
        True, False, Unknown
    }

    private ConditionSchema() {
    }
}
