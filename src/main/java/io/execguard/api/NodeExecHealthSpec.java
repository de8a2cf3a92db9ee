package io.execguard.api;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Required;

/** The desired side of a NodeExecHealth: only which node it describes. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodeExecHealthSpec {

    @Required
    @JsonPropertyDescription("Name of the Node this report describes; always equal to metadata.name. "
            + "The resource is owned by that Node and is deleted with it.")
    private String nodeName;

    public NodeExecHealthSpec() {
    }

    public NodeExecHealthSpec(String nodeName) {
        this.nodeName = nodeName;
    }

    public String getNodeName() {
        return nodeName;
    }

    public void setNodeName(String nodeName) {
        this.nodeName = nodeName;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeExecHealthSpec s && Objects.equals(nodeName, s.nodeName);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(nodeName);
    }

    @Override
    public String toString() {
        return "NodeExecHealthSpec{nodeName=" + nodeName + "}";
    }
}
