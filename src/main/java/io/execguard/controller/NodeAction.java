package io.execguard.controller;

/** What execguard does to a Node, in increasing strength. Each level includes the ones below it. */
public enum NodeAction {
    /** Nothing. */
    None,
    /** {@code execguard.io/exec-health} and {@code execguard.io/exec-health-reason} annotations. */
    Annotate,
    /** Plus the Node condition {@code ExecHealthy=False}, for draino, NHC and autoscalers. */
    Condition,
    /** Plus the taint {@code execguard.io/exec-unhealthy:NoSchedule}. */
    Taint,
    /** Plus {@code spec.unschedulable}, recorded with {@code execguard.io/cordoned-by}. */
    Cordon;

    /** Taint and Cordon keep new work off the node: these count toward {@code maxUnhealthy}. */
    public boolean holds() {
        return this == Taint || this == Cordon;
    }

    public NodeAction atMost(NodeAction cap) {
        return compareTo(cap) <= 0 ? this : cap;
    }

    public NodeAction atLeast(NodeAction floor) {
        return compareTo(floor) >= 0 ? this : floor;
    }
}
