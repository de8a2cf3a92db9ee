package io.execguard.api;

import java.util.List;

/** The condition types of {@code NodeExecHealth.status.conditions}, and their reasons' conventions. */
public final class ConditionTypes {

    /** True when nothing stops {@code kubectl exec} on this node (no finding that breaks exec). */
    public static final String EXEC_HEALTHY = "ExecHealthy";
    /** True when nothing stops kill and pod deletion on this node (no finding that breaks kill). */
    public static final String KILL_HEALTHY = "KillHealthy";
    /** True while the probe reports at least once per heartbeat; Unknown once its reports are stale. */
    public static final String PROBE_REPORTING = "ProbeReporting";

    /** All condition types, in the order the probe writes them. */
    public static final List<String> ALL = List.of(EXEC_HEALTHY, KILL_HEALTHY, PROBE_REPORTING);

    public static final String STATUS_TRUE = "True";
    public static final String STATUS_FALSE = "False";
    public static final String STATUS_UNKNOWN = "Unknown";

    private ConditionTypes() {
    }
}
