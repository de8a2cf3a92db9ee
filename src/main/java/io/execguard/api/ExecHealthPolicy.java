package io.execguard.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * How execguard judges and treats nodes: thresholds, which finding types are Unhealthy, the action
 * ladder and its safety limits. Cluster-scoped and optional: without one, {@link PolicyDefaults} apply.
 */
@JsonClassDescription("How execguard judges and treats nodes: when a stuck task counts as a finding (thresholds), "
        + "which finding types make a node Unhealthy or Degraded, what it does to such nodes (the action ladder: "
        + "annotate, condition, taint, cordon) and the safety limits on it (maxUnhealthy, dryRun, releaseAfter). "
        + "Optional and cluster-scoped: without a policy, the documented defaults quoted in each field apply.")
@Group(NodeExecHealth.GROUP)
@Version(NodeExecHealth.VERSION)
@Plural(ExecHealthPolicy.PLURAL)
@ShortNames("ehp")
@Categories("execguard")
@AdditionalPrinterColumn(name = "Dry-Run", jsonPath = ".spec.dryRun", type = AdditionalPrinterColumn.Type.BOOLEAN,
        getDescription = "Whether the controller leaves Nodes untouched.")
@AdditionalPrinterColumn(name = "Max-Unhealthy", jsonPath = ".spec.maxUnhealthy",
        type = AdditionalPrinterColumn.Type.STRING, getDescription = "Cap on nodes held tainted or cordoned.")
@AdditionalPrinterColumn(name = "Held", jsonPath = ".status.nodesHeld", type = AdditionalPrinterColumn.Type.INTEGER,
        getDescription = "Nodes currently held tainted or cordoned.")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ExecHealthPolicy extends CustomResource<ExecHealthPolicySpec, ExecHealthPolicyStatus> {

    public static final String PLURAL = "exechealthpolicies";
    public static final String KIND = "ExecHealthPolicy";
    /** {@code exechealthpolicies.execguard.io} */
    public static final String CRD_NAME = PLURAL + "." + NodeExecHealth.GROUP;

    @Override
    @JsonPropertyDescription("The policy. Every field is optional; absent fields take execguard's documented "
            + "defaults, quoted in each field's description.")
    public ExecHealthPolicySpec getSpec() {
        return super.getSpec();
    }

    @Override
    @JsonPropertyDescription("What the controller made of this policy: nodes held, incidents, conditions. Written "
            + "only by the controller.")
    public ExecHealthPolicyStatus getStatus() {
        return super.getStatus();
    }
}
