package io.execguard.api;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/**
 * The strongest action a node's findings may lead to, by severity and scope. A node's action is
 * the strongest over its findings (after the safety limits). Absent fields take the defaults of
 * {@link PolicyDefaults}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"nodeCritical", "nodeWarning", "containerCritical", "containerWarning"})
public class ActionLadder {

    private static final String LADDER = " One of None, Annotate, Condition, Taint, Cordon (each includes the weaker "
            + "ones).";

    @JsonPropertyDescription("Action for a Critical node-scope finding (exec or kill already failing outside any "
            + "single container, e.g. a stuck runc init or an unkillable host task)." + LADDER + " Default: Cordon.")
    private Action nodeCritical;

    @JsonPropertyDescription("Action for a Warning node-scope finding (at risk: pty or pipe exhaustion, a hung host "
            + "task)." + LADDER + " Default: Condition.")
    private Action nodeWarning;

    @JsonPropertyDescription("Action for a Critical container-scope finding. One container at its own pids limit is "
            + "that pod's problem, not the node's: by default such findings never taint or cordon." + LADDER
            + " Default: Annotate.")
    private Action containerCritical;

    @JsonPropertyDescription("Action for a Warning container-scope finding (e.g. a leaked exec session)." + LADDER
            + " Default: Annotate.")
    private Action containerWarning;

    public ActionLadder() {
    }

    public ActionLadder(Action nodeCritical, Action nodeWarning, Action containerCritical, Action containerWarning) {
        this.nodeCritical = nodeCritical;
        this.nodeWarning = nodeWarning;
        this.containerCritical = containerCritical;
        this.containerWarning = containerWarning;
    }

    /**
     * The action for one finding; absent rungs take their defaults. A finding of {@link Scope#Unknown} scope
     * (its cgroup could not be read) gets the weaker of the node and container rungs, and never more than
     * {@link Action#Condition}: it never holds a node.
     */
    public Action forFinding(Severity severity, Scope scope) {
        ActionLadder l = withDefaults(PolicyDefaults.actions());
        boolean critical = severity == Severity.Critical;
        Action node = critical ? l.nodeCritical : l.nodeWarning;
        Action container = critical ? l.containerCritical : l.containerWarning;
        return switch (scope) {
            case Node -> node;
            case Container -> container;
            case Unknown -> min(min(node, container), Action.Condition);
        };
    }

    private static Action min(Action a, Action b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    ActionLadder withDefaults(ActionLadder d) {
        return new ActionLadder(nodeCritical != null ? nodeCritical : d.nodeCritical,
                nodeWarning != null ? nodeWarning : d.nodeWarning,
                containerCritical != null ? containerCritical : d.containerCritical,
                containerWarning != null ? containerWarning : d.containerWarning);
    }

    public Action getNodeCritical() {
        return nodeCritical;
    }

    public void setNodeCritical(Action nodeCritical) {
        this.nodeCritical = nodeCritical;
    }

    public Action getNodeWarning() {
        return nodeWarning;
    }

    public void setNodeWarning(Action nodeWarning) {
        this.nodeWarning = nodeWarning;
    }

    public Action getContainerCritical() {
        return containerCritical;
    }

    public void setContainerCritical(Action containerCritical) {
        this.containerCritical = containerCritical;
    }

    public Action getContainerWarning() {
        return containerWarning;
    }

    public void setContainerWarning(Action containerWarning) {
        this.containerWarning = containerWarning;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActionLadder l && nodeCritical == l.nodeCritical && nodeWarning == l.nodeWarning
                && containerCritical == l.containerCritical && containerWarning == l.containerWarning;
    }

    @Override
    public int hashCode() {
        return Objects.hash(nodeCritical, nodeWarning, containerCritical, containerWarning);
    }

    @Override
    public String toString() {
        return "ActionLadder{nodeCritical=" + nodeCritical + ", nodeWarning=" + nodeWarning + ", containerCritical="
                + containerCritical + ", containerWarning=" + containerWarning + "}";
    }
}
