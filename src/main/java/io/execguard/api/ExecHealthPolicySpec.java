package io.execguard.api;

import static io.execguard.api.PolicyDefaults.*;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.execguard.detect.FindingType;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;

/**
 * How execguard judges and treats the nodes a policy selects. Every field is optional: absent
 * fields take the defaults of {@link PolicyDefaults}; {@link #effective()} returns the spec with
 * them filled in, and {@link #defaults()} the spec that applies when there is no policy at all.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"nodeSelector", "thresholds", "unhealthyTypes", "degradedTypes", "actions", "releaseAfter",
        "canaryInterval",         "staleAfterHeartbeats", "maxUnhealthy", "stormGuard", "dryRun", "remediation"})
public class ExecHealthPolicySpec {

    @JsonPropertyDescription("Labels a Node must all carry for this policy to apply to it (like a pod's nodeSelector). "
            + "Absent or empty: every node. When several policies select a node, the first by name applies (the "
            + "others say so in their Overlapping condition); nodes no policy selects get the documented defaults, "
            + "exactly as with no policy at all.")
    private Map<String, String> nodeSelector;

    @JsonPropertyDescription("When a suspicious task becomes a finding: time thresholds per finding type and the "
            + "percentages for pids, pty and pipe limits. Read by the probes.")
    private PolicyThresholds thresholds;

    @JsonPropertyDescription("Finding types that make a node's phase Unhealthy. Default: StuckRuntimeInit, "
            + "UnkillableTask, PidNamespaceTeardownStuck, PodStuckTerminating, ExecPathStuck (exec or kill already "
            + "failing node-wide or for a pod).")
    private List<FindingType> unhealthyTypes;

    @JsonPropertyDescription("Finding types that make a node's phase Degraded (when no Unhealthy type is present). "
            + "Default: every type not in unhealthyTypes (with default unhealthyTypes: HungTask, PidsLimitReached, "
            + "LeakedExecSession, PtyExhaustionRisk, PipeBufferExhaustionRisk, ExecPathSlow, RuntimeUnresponsive). A type in neither list is still "
            + "reported but leaves the phase Healthy; a type in both counts as Unhealthy.")
    private List<FindingType> degradedTypes;

    @JsonPropertyDescription("The action ladder: the strongest action (None, Annotate, Condition, Taint, Cordon) a "
            + "finding may lead to, by severity (Critical, Warning) and scope (node, container). A node gets the "
            + "strongest action over its findings, subject to maxUnhealthy, dryRun and the "
            + "execguard.io/remediation=disabled Node label.")
    private ActionLadder actions;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription("How long a node must stay healthy, continuously, before execguard removes its taint, "
            + "cordon and annotations and sets its ExecHealthy condition back to True; as a duration (90s, 5m, 1h). "
            + "Default: " + RELEASE_AFTER + ".")
    private String releaseAfter;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription("How often the probe runs its exec canary (an exec of a tiny command into its own "
            + "container through the runtime's CRI socket, docs/DETECTION.md), as a duration (30s, 1m). One canary is "
            + "in flight at a time. Without the chart's probe.criSocket the probe runs none. Default: "
            + CANARY_INTERVAL + ".")
    private String canaryInterval;

    @Min(1)
    @JsonPropertyDescription("A report whose lastProbeTime is older than this many probe heartbeats is stale: its "
            + "phase becomes Unknown and execguard neither acts on nor releases the node until the probe reports "
            + "again. Default: " + STALE_AFTER_HEARTBEATS + ".")
    private Integer staleAfterHeartbeats;

    @JsonPropertyDescription("The most nodes (of those this policy applies to) execguard marks unhealthy at once — "
            + "the ExecHealthy=False condition (which NodeHealthCheck, draino and autoscalers act on), the taint and the "
            + "cordon all count, as read from the Nodes: a count (5) or a percentage (\"10%\", rounded down, at least "
            + "1). Past it, further failing nodes get nothing new on the Node and their report says suppressed: "
            + "maxUnhealthy. This is the guard against cordon storms. Default: \"" + MAX_UNHEALTHY + "\".")
    @ValidationRule(value = "type(self) == int ? self >= 0 : self.matches('" + PERCENT_PATTERN + "')",
            message = "must be a count (0, 5) or a percentage from 0% to 100% (\"10%\")")
    private IntOrString maxUnhealthy;

    @JsonPropertyDescription("The storm guard: when a failure is an incident (one backend on many nodes, or too many "
            + "of the policy's nodes at once) rather than bad nodes, execguard marks no further node; and a limit on "
            + "new holds per minute. See its fields for the defaults.")
    private StormGuard stormGuard;

    @JsonPropertyDescription("When true, execguard computes and reports everything (NodeExecHealth status.remediation, "
            + "Events) but changes no Node. Default: " + DRY_RUN + ".")
    private Boolean dryRun;

    @JsonPropertyDescription("Node-local remediation switches: what the probe itself may do on the host (abort a "
            + "stuck FUSE connection, end leaked exec sessions). All off, and in dry run, by default.")
    private NodeRemediation remediation;

    /** The spec that applies when no policy selects a node: every field at its default. */
    public static ExecHealthPolicySpec defaults() {
        return PolicyDefaults.spec();
    }

    /** The spec that applies to a node selected by {@code policy}, or the defaults when it is null. */
    public static ExecHealthPolicySpec effective(ExecHealthPolicy policy) {
        return policy == null || policy.getSpec() == null ? defaults() : policy.getSpec().effective();
    }

    /**
     * A new spec with every absent field (recursively) set to its default; this spec is not changed.
     * With {@code unhealthyTypes} set and {@code degradedTypes} absent, degraded types are all the others.
     */
    public ExecHealthPolicySpec effective() {
        ExecHealthPolicySpec d = PolicyDefaults.spec();
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.nodeSelector = nodeSelector != null ? new LinkedHashMap<>(nodeSelector) : d.nodeSelector;
        s.thresholds = thresholds != null ? thresholds.withDefaults(d.thresholds) : d.thresholds;
        s.unhealthyTypes = unhealthyTypes != null ? new ArrayList<>(unhealthyTypes) : d.unhealthyTypes;
        s.degradedTypes = degradedTypes != null ? new ArrayList<>(degradedTypes)
                : new ArrayList<>(PolicyDefaults.complement(s.unhealthyTypes));
        s.actions = actions != null ? actions.withDefaults(d.actions) : d.actions;
        s.releaseAfter = releaseAfter != null ? releaseAfter : d.releaseAfter;
        s.canaryInterval = canaryInterval != null ? canaryInterval : d.canaryInterval;
        s.staleAfterHeartbeats = staleAfterHeartbeats != null ? staleAfterHeartbeats : d.staleAfterHeartbeats;
        s.maxUnhealthy = maxUnhealthy != null ? copy(maxUnhealthy) : d.maxUnhealthy;
        s.dryRun = dryRun != null ? dryRun : d.dryRun;
        s.stormGuard = stormGuard != null ? stormGuard.withDefaults(d.stormGuard) : d.stormGuard;
        s.remediation = remediation != null ? remediation.withDefaults(d.remediation) : d.remediation;
        return s;
    }

    static IntOrString copy(IntOrString v) {
        return v.getIntVal() != null ? new IntOrString(v.getIntVal()) : new IntOrString(v.getStrVal());
    }

    /**
     * The phase a node with findings of these types has: Unhealthy if any type is an (effective)
     * unhealthy type, else Degraded if any is a degraded type, else Healthy.
     */
    public Phase phaseFor(Collection<FindingType> types) {
        ExecHealthPolicySpec e = effective();
        Phase phase = Phase.Healthy;
        for (FindingType t : types) {
            if (e.unhealthyTypes.contains(t)) {
                return Phase.Unhealthy;
            }
            if (e.degradedTypes.contains(t)) {
                phase = Phase.Degraded;
            }
        }
        return phase;
    }

    /** The effective unhealthy types as a set. */
    public Set<FindingType> unhealthyTypeSet() {
        List<FindingType> u = effective().unhealthyTypes;
        return u.isEmpty() ? EnumSet.noneOf(FindingType.class) : EnumSet.copyOf(u);
    }

    /**
     * How many nodes may be held (tainted or cordoned) at once out of {@code selectedNodes}: an
     * integer as given (0 means never taint or cordon), a percentage rounded down but at least 1.
     *
     * @throws IllegalArgumentException when the value is neither a count nor a percentage
     */
    public int maxUnhealthyNodes(int selectedNodes) {
        return countOrPercent("maxUnhealthy", effective().maxUnhealthy, selectedNodes);
    }

    /** A count as given, or a percentage of {@code of} rounded down but at least 1. */
    static int countOrPercent(String field, IntOrString v, int of) {
        if (v == null) {
            throw new IllegalArgumentException(field + " is absent");
        }
        if (v.getIntVal() != null) {
            if (v.getIntVal() < 0) {
                throw new IllegalArgumentException(field + " must not be negative, got " + v.getIntVal());
            }
            return v.getIntVal();
        }
        String s = v.getStrVal() == null ? "" : v.getStrVal();
        if (!s.matches(PERCENT_PATTERN)) {
            throw new IllegalArgumentException(field + " must be a count (5) or a percentage (\"10%\"), got '"
                    + v.getStrVal() + "'");
        }
        long percent = Long.parseLong(s.substring(0, s.length() - 1));
        return (int) Math.max(1, Math.min(of, of * percent / 100));
    }

    /** Whether a node with these labels is selected by this spec's nodeSelector (absent or empty: all nodes). */
    public boolean selects(Map<String, String> nodeLabels) {
        if (nodeSelector == null || nodeSelector.isEmpty()) {
            return true;
        }
        Map<String, String> labels = nodeLabels == null ? Map.of() : nodeLabels;
        for (Map.Entry<String, String> e : nodeSelector.entrySet()) {
            if (!Objects.equals(labels.get(e.getKey()), e.getValue())) {
                return false;
            }
        }
        return true;
    }

    public Map<String, String> getNodeSelector() {
        return nodeSelector;
    }

    public void setNodeSelector(Map<String, String> nodeSelector) {
        this.nodeSelector = nodeSelector;
    }

    public PolicyThresholds getThresholds() {
        return thresholds;
    }

    public void setThresholds(PolicyThresholds thresholds) {
        this.thresholds = thresholds;
    }

    public List<FindingType> getUnhealthyTypes() {
        return unhealthyTypes;
    }

    public void setUnhealthyTypes(List<FindingType> unhealthyTypes) {
        this.unhealthyTypes = unhealthyTypes;
    }

    public List<FindingType> getDegradedTypes() {
        return degradedTypes;
    }

    public void setDegradedTypes(List<FindingType> degradedTypes) {
        this.degradedTypes = degradedTypes;
    }

    public ActionLadder getActions() {
        return actions;
    }

    public void setActions(ActionLadder actions) {
        this.actions = actions;
    }

    public String getCanaryInterval() {
        return canaryInterval;
    }

    public void setCanaryInterval(String canaryInterval) {
        this.canaryInterval = canaryInterval;
    }

    public String getReleaseAfter() {
        return releaseAfter;
    }

    public void setReleaseAfter(String releaseAfter) {
        this.releaseAfter = releaseAfter;
    }

    public Integer getStaleAfterHeartbeats() {
        return staleAfterHeartbeats;
    }

    public void setStaleAfterHeartbeats(Integer staleAfterHeartbeats) {
        this.staleAfterHeartbeats = staleAfterHeartbeats;
    }

    public IntOrString getMaxUnhealthy() {
        return maxUnhealthy;
    }

    public void setMaxUnhealthy(IntOrString maxUnhealthy) {
        this.maxUnhealthy = maxUnhealthy;
    }

    public StormGuard getStormGuard() {
        return stormGuard;
    }

    public void setStormGuard(StormGuard stormGuard) {
        this.stormGuard = stormGuard;
    }

    public Boolean getDryRun() {
        return dryRun;
    }

    public void setDryRun(Boolean dryRun) {
        this.dryRun = dryRun;
    }

    public NodeRemediation getRemediation() {
        return remediation;
    }

    public void setRemediation(NodeRemediation remediation) {
        this.remediation = remediation;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecHealthPolicySpec s && Objects.equals(nodeSelector, s.nodeSelector)
                && Objects.equals(thresholds, s.thresholds) && Objects.equals(unhealthyTypes, s.unhealthyTypes)
                && Objects.equals(degradedTypes, s.degradedTypes) && Objects.equals(actions, s.actions)
                && Objects.equals(releaseAfter, s.releaseAfter) && Objects.equals(canaryInterval, s.canaryInterval)
                && Objects.equals(staleAfterHeartbeats, s.staleAfterHeartbeats)
                && Objects.equals(maxUnhealthy, s.maxUnhealthy) && Objects.equals(stormGuard, s.stormGuard)
                && Objects.equals(dryRun, s.dryRun)
                && Objects.equals(remediation, s.remediation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(nodeSelector, thresholds, unhealthyTypes, degradedTypes, actions, releaseAfter, canaryInterval,
                staleAfterHeartbeats, maxUnhealthy, stormGuard, dryRun, remediation);
    }

    @Override
    public String toString() {
        return "ExecHealthPolicySpec{nodeSelector=" + nodeSelector + ", thresholds=" + thresholds + ", unhealthyTypes="
                + unhealthyTypes + ", degradedTypes=" + degradedTypes + ", actions=" + actions + ", releaseAfter="
                + releaseAfter + ", canaryInterval=" + canaryInterval + ", staleAfterHeartbeats=" + staleAfterHeartbeats + ", maxUnhealthy=" + maxUnhealthy
                + ", stormGuard=" + stormGuard + ", dryRun=" + dryRun + ", remediation=" + remediation + "}";
    }
}
