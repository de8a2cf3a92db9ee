package io.execguard.api;

/**
 * A node's exec health at a glance ({@code NodeExecHealth.status.phase}).
 *
 * <ul>
 *   <li>{@link #Healthy}: no findings.</li>
 *   <li>{@link #Degraded}: findings, none of a type the policy lists in {@code unhealthyTypes}.</li>
 *   <li>{@link #Unhealthy}: at least one finding of a type in {@code unhealthyTypes}.</li>
 *   <li>{@link #Unknown}: the probe stopped reporting (its last report is older than
 *       {@code staleAfterHeartbeats} heartbeats); set by the controller, never by the probe.</li>
 * </ul>
 */
public enum Phase {
    Healthy, Degraded, Unhealthy, Unknown
}
