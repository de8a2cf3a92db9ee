package io.execguard.probe;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything the probe is configured with. Each field maps one-to-one to an environment variable
 * (and a Helm value under {@code probe.}); flags override the environment.
 *
 * @param nodeName            {@code NODE_NAME} (required; from the downward API)
 * @param hostRoot            {@code HOST_ROOT}, default {@code /host} (the host's root mounted read-only)
 * @param scanInterval        {@code SCAN_INTERVAL}, default 10s
 * @param heartbeat           {@code HEARTBEAT}, default 60s: how often lastProbeTime is refreshed when nothing changed
 * @param metricsPort         {@code METRICS_PORT}, default 9090: /metrics, /healthz, /readyz
 * @param readTimeout         {@code READ_TIMEOUT}, default 1s: deadline for reads that can block on a stuck task
 * @param podStuckTerminating {@code POD_STUCK_TERMINATING}, default 2m past the deletion timestamp (the end of the grace period),
 *                            used while no ExecHealthPolicy selects the node (a policy's own value wins)
 * @param maxFindings         {@code MAX_FINDINGS}, default 50: findings kept in the status
 * @param criSocket           {@code CRI_SOCKET}, default none: the container runtime's CRI socket as mounted in the
 *                            probe's container; the exec canary runs only with one (and when the socket exists)
 * @param canaryDeadline      {@code CANARY_DEADLINE}, default 10s: an exec canary with no answer by then is stuck
 * @param runtimeCallDeadline {@code RUNTIME_CALL_DEADLINE}, default 5s: a CRI call of the per-container runtime
 *                            sweep (same socket, same interval as the canary) with no answer by then is unanswered
 */
public record ProbeConfig(String nodeName, Path hostRoot, Duration scanInterval, Duration heartbeat, int metricsPort,
                          Duration readTimeout, Duration podStuckTerminating, int maxFindings, Path criSocket,
                          Duration canaryDeadline, Duration runtimeCallDeadline) {

    public ProbeConfig {
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("NODE_NAME is required (set it from the downward API: spec.nodeName)");
        }
        requirePositive(scanInterval, "SCAN_INTERVAL");
        requirePositive(heartbeat, "HEARTBEAT");
        requirePositive(readTimeout, "READ_TIMEOUT");
        requirePositive(canaryDeadline, "CANARY_DEADLINE");
        requirePositive(runtimeCallDeadline, "RUNTIME_CALL_DEADLINE");
        if (metricsPort < 0 || metricsPort > 65535) {
            throw new IllegalArgumentException("METRICS_PORT must be 0..65535, got " + metricsPort);
        }
        if (maxFindings < 1) {
            throw new IllegalArgumentException("MAX_FINDINGS must be >= 1, got " + maxFindings);
        }
    }

    public static ProbeConfig fromEnv(Map<String, String> env) {
        return new ProbeConfig(env.get("NODE_NAME"), Path.of(env.getOrDefault("HOST_ROOT", "/host")),
                duration(env, "SCAN_INTERVAL", "10s"), duration(env, "HEARTBEAT", "60s"),
                integer(env, "METRICS_PORT", 9090), duration(env, "READ_TIMEOUT", "1s"),
                duration(env, "POD_STUCK_TERMINATING", "2m"), integer(env, "MAX_FINDINGS", 50),
                env.getOrDefault("CRI_SOCKET", "").isBlank() ? null : Path.of(env.get("CRI_SOCKET").trim()),
                duration(env, "CANARY_DEADLINE", "10s"), duration(env, "RUNTIME_CALL_DEADLINE", "5s"));
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be a positive duration");
        }
    }

    private static int integer(Map<String, String> env, String name, int def) {
        String v = env.get(name);
        try {
            return v == null || v.isBlank() ? def : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }

    private static Duration duration(Map<String, String> env, String name, String def) {
        String v = env.getOrDefault(name, def);
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage());
        }
    }
}
