package io.execguard.api;

import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.Condition;

/** What the controller made of a policy. Written only by the controller. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"observedGeneration", "nodesHeld", "incidents", "conditions"})
public class ExecHealthPolicyStatus {

    @Min(0)
    @JsonPropertyDescription("The metadata.generation of the spec the controller last acted on. Lower than "
            + "metadata.generation means a spec change has not been applied yet.")
    private Long observedGeneration;

    @Min(0)
    @JsonPropertyDescription("How many of the nodes this policy applies to execguard marks unhealthy now (condition, "
            + "taint or cordon, counted from the Nodes); never more than maxUnhealthy allows.")
    private Integer nodesHeld;

    @JsonPropertyDescription("Current incidents: at least stormGuard.incidentNodes nodes failing with the same cause on "
            + "the same backend (the same NFS or ceph source, the same FUSE filesystem), listed with this policy's "
            + "nodes among them. Their nodes are not newly marked; fix the backend, not the nodes.")
    private List<Incident> incidents;

    @JsonPropertyDescription("Standard conditions of the policy: Ready (the spec is valid and applied), Suppressing "
            + "(the storm guard or maxUnhealthy is holding back marks, and why) and Overlapping (another policy selects "
            + "some of the same nodes).")
    @SchemaFrom(type = ConditionSchema[].class)
    private List<Condition> conditions;

    public Long getObservedGeneration() {
        return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    public Integer getNodesHeld() {
        return nodesHeld;
    }

    public void setNodesHeld(Integer nodesHeld) {
        this.nodesHeld = nodesHeld;
    }

    public List<Incident> getIncidents() {
        return incidents;
    }

    public void setIncidents(List<Incident> incidents) {
        this.incidents = incidents;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecHealthPolicyStatus s && Objects.equals(observedGeneration, s.observedGeneration)
                && Objects.equals(nodesHeld, s.nodesHeld) && Objects.equals(incidents, s.incidents)
                && Objects.equals(conditions, s.conditions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(observedGeneration, nodesHeld, incidents, conditions);
    }

    @Override
    public String toString() {
        return "ExecHealthPolicyStatus{observedGeneration=" + observedGeneration + ", nodesHeld=" + nodesHeld
                + ", incidents=" + incidents + "}";
    }
}
