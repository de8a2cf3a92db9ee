package io.execguard.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One node's exec and kill health, as its execguard probe last saw it. Cluster-scoped, one per
 * Node, named after the Node and owned by it (deleting the Node deletes its report).
 *
 * <p>Who writes what: the probe on the node writes {@code spec} (once, at creation) and every
 * field of {@code status} except {@code status.remediation}, which only the controller writes.
 */
@JsonClassDescription("One node's exec and kill health, as the execguard probe on that node last saw it: whether "
        + "kubectl exec, kill and pod deletion work there and, when they do not, which task is stuck on what (a FUSE "
        + "daemon, an NFS server, a full pipe, a pid namespace teardown). One per Node, named after it and deleted "
        + "with it. The probe writes spec and status; the controller writes only status.remediation. "
        + "kubectl get neh shows the fleet at a glance; docs/DETECTION.md has the runbook for every finding type.")
@ValidationRule(value = "self.spec.nodeName == self.metadata.name", message = "spec.nodeName must equal metadata.name",
        fieldPath = ".spec.nodeName")
@Group(NodeExecHealth.GROUP)
@Version(NodeExecHealth.VERSION)
@Plural(NodeExecHealth.PLURAL)
@ShortNames("neh")
@Categories("execguard")
@AdditionalPrinterColumn(name = "Status", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING,
        getDescription = "Healthy, Degraded, Unhealthy or Unknown (probe not reporting).")
@AdditionalPrinterColumn(name = "Stuck-Exec", jsonPath = ".status.summary.stuckExec",
        type = AdditionalPrinterColumn.Type.INTEGER, getDescription = "Findings that break or threaten kubectl exec.")
@AdditionalPrinterColumn(name = "Stuck-Kill", jsonPath = ".status.summary.stuckKill",
        type = AdditionalPrinterColumn.Type.INTEGER, getDescription = "Findings that break kill or pod deletion.")
@AdditionalPrinterColumn(name = "Top-Cause", jsonPath = ".status.summary.topCause",
        type = AdditionalPrinterColumn.Type.STRING, getDescription = "Cause of the most severe finding.")
@AdditionalPrinterColumn(name = "Action", jsonPath = ".status.remediation.action",
        type = AdditionalPrinterColumn.Type.STRING, getDescription = "What the controller did to the Node.")
@AdditionalPrinterColumn(name = "Last-Probe", jsonPath = ".status.lastProbeTime", type = AdditionalPrinterColumn.Type.DATE,
        getDescription = "When the probe last reported.")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class NodeExecHealth extends CustomResource<NodeExecHealthSpec, NodeExecHealthStatus> {

    public static final String GROUP = "execguard.io";
    public static final String VERSION = "v1alpha1";
    public static final String PLURAL = "nodeexechealths";
    public static final String KIND = "NodeExecHealth";
    /** {@code nodeexechealths.execguard.io} */
    public static final String CRD_NAME = PLURAL + "." + GROUP;

    /**
     * A new report for {@code node}: named after it, {@code spec.nodeName} set, and owned by it so
     * that deleting the Node garbage-collects the report. {@code blockOwnerDeletion} is left unset:
     * setting it would need delete permission on Nodes, which the probe does not have.
     */
    public static NodeExecHealth forNode(Node node) {
        String name = node.getMetadata().getName();
        NodeExecHealth neh = new NodeExecHealth();
        ObjectMeta meta = new ObjectMeta();
        meta.setName(name);
        meta.setOwnerReferences(List.of(ownerReference(node)));
        neh.setMetadata(meta);
        neh.setSpec(new NodeExecHealthSpec(name));
        return neh;
    }

    /** The owner reference from a report to its Node. */
    public static OwnerReference ownerReference(Node node) {
        return new OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("Node")
                .withName(node.getMetadata().getName())
                .withUid(node.getMetadata().getUid())
                .build();
    }

    @Override
    @Required
    @JsonPropertyDescription("Which node this report is about. Set by the probe when it creates the resource.")
    public NodeExecHealthSpec getSpec() {
        return super.getSpec();
    }

    @Override
    @JsonPropertyDescription("What the probe on the node found at its last scan, and what the controller did "
            + "about it (remediation). Written by the probe every time its content changes, and at least once "
            + "per heartbeat (lastProbeTime).")
    public NodeExecHealthStatus getStatus() {
        return super.getStatus();
    }
}
