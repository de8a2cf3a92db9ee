package io.execguard.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Why execguard applied less than the policy asked for ({@code NodeExecHealth.status.remediation.suppressed}),
 * one safety rule each. Serialised in lower camel case.
 */
public enum Suppression {
    /** The policy's cap on nodes execguard marks unhealthy (condition, taint, cordon) is reached. */
    @JsonProperty("maxUnhealthy") MaxUnhealthy,
    /** The Node is labelled {@code execguard.io/remediation=disabled}. */
    @JsonProperty("optOut") OptOut,
    /** The policy is in dry run: nothing is changed on Nodes. */
    @JsonProperty("dryRun") DryRun,
    /** The probe has not reported for staleAfterHeartbeats: nothing new, nothing released. */
    @JsonProperty("stale") Stale,
    /** The storm guard: one backend failing on many nodes, or too large a share of the policy's nodes failing. */
    @JsonProperty("incident") Incident,
    /** More new holds in the last minute than the policy's stormGuard.newHoldsPerMinute. */
    @JsonProperty("rateLimit") RateLimit,
    /** The policy has a field the operator cannot read: nothing new, nothing released until it is fixed. */
    @JsonProperty("invalidPolicy") InvalidPolicy;

    /** The serialised value ({@code maxUnhealthy}). */
    public String value() {
        return Character.toLowerCase(name().charAt(0)) + name().substring(1);
    }
}
