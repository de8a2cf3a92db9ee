package io.execguard.api;

import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import io.execguard.detect.Cause;
import io.fabric8.generator.annotation.Min;

/** Several nodes failing with the same cause on the same backend: one incident, not many bad nodes. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"cause", "backend", "nodeCount", "nodes", "since"})
public class Incident {

    /** At most this many node names are listed; {@code nodeCount} counts them all. */
    public static final int MAX_NODES_LISTED = 50;

    @JsonPropertyDescription("The shared cause: FuseRequest, NfsRequest, CephRequest, CifsRequest, ... (see "
            + "NodeExecHealth status.findings.cause).")
    private Cause cause;

    @JsonPropertyDescription("The shared backend, as filesystem type and mount source, e.g. 'nfs4 10.0.0.5:/export' "
            + "or 'fuse.sshfs user@files:/data'. Fix the backend, not the nodes.")
    private String backend;

    @Min(0)
    @JsonPropertyDescription("How many nodes have findings on this backend.")
    private Integer nodeCount;

    @JsonPropertyDescription("Names of the affected nodes (at most 50; nodeCount counts them all).")
    private List<String> nodes;

    @JsonPropertyDescription("When the controller first saw this incident (RFC 3339, UTC).")
    @JsonSerialize(using = Rfc3339.class)
    private String since;

    public Incident() {
    }

    public Incident(Cause cause, String backend, List<String> nodes, String since) {
        this.cause = cause;
        this.backend = backend;
        this.nodeCount = nodes == null ? null : nodes.size();
        this.nodes = nodes == null ? null : List.copyOf(nodes.subList(0, Math.min(nodes.size(), MAX_NODES_LISTED)));
        this.since = since;
    }

    public Cause getCause() {
        return cause;
    }

    public void setCause(Cause cause) {
        this.cause = cause;
    }

    public String getBackend() {
        return backend;
    }

    public void setBackend(String backend) {
        this.backend = backend;
    }

    public Integer getNodeCount() {
        return nodeCount;
    }

    public void setNodeCount(Integer nodeCount) {
        this.nodeCount = nodeCount;
    }

    public List<String> getNodes() {
        return nodes;
    }

    public void setNodes(List<String> nodes) {
        this.nodes = nodes;
    }

    public String getSince() {
        return since;
    }

    public void setSince(String since) {
        this.since = since;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Incident i && cause == i.cause && Objects.equals(backend, i.backend)
                && Objects.equals(nodeCount, i.nodeCount) && Objects.equals(nodes, i.nodes)
                && Objects.equals(since, i.since);
    }

    @Override
    public int hashCode() {
        return Objects.hash(cause, backend, nodeCount, nodes, since);
    }

    @Override
    public String toString() {
        return "Incident{" + cause + " on " + backend + ", nodes=" + nodeCount + ", since=" + since + "}";
    }
}
