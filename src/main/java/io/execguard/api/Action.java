package io.execguard.api;

/**
 * What execguard does to a Node, in increasing strength. Each action includes the weaker ones: a
 * node that is cordoned is also tainted, has the condition and is annotated.
 */
public enum Action {
    /** Report only (the NodeExecHealth status and Events). */
    None,
    /** Annotations {@code execguard.io/exec-health} and {@code execguard.io/exec-health-reason} on the Node. */
    Annotate,
    /** A Node condition {@code ExecHealthy=False} with reason and message, for draino, NHC, autoscalers. */
    Condition,
    /** The taint {@code execguard.io/exec-unhealthy:NoSchedule}. */
    Taint,
    /** {@code spec.unschedulable: true}, recorded with the annotation {@code execguard.io/cordoned-by}. */
    Cordon;

    /** Whether this action is at least as strong as {@code other}. */
    public boolean atLeast(Action other) {
        return compareTo(other) >= 0;
    }

    /** The stronger of two actions. */
    public static Action max(Action a, Action b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** Whether this action holds the node out of scheduling (taint or cordon). */
    public boolean holdsNode() {
        return atLeast(Taint);
    }

    /**
     * Whether this action marks the node unhealthy in a way other tools act on (the condition, which NHC, draino
     * and autoscalers read, and every hold), and so counts against {@code maxUnhealthy}.
     */
    public boolean marksUnhealthy() {
        return atLeast(Condition);
    }

    /** The weaker of two actions. */
    public static Action min(Action a, Action b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
