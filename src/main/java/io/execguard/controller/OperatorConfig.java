package io.execguard.controller;

import java.time.Duration;
import java.util.Map;

import io.execguard.probe.Durations;

/**
 * The operator's configuration, one field per environment variable (and Helm value under {@code operator.}).
 *
 * @param namespace      {@code POD_NAMESPACE}: where the leader-election Lease lives (downward API)
 * @param leaderElection {@code LEADER_ELECTION}, default true
 * @param leaseName      {@code LEASE_NAME}, default {@code execguard-operator}
 * @param identity       {@code POD_NAME} (downward API), default the host name: this replica's name in the Lease
 * @param metricsPort    {@code METRICS_PORT}, default 9090
 * @param resync         {@code RESYNC_INTERVAL}, default 60s: every report is re-decided at least this often
 * @param probeHeartbeat {@code PROBE_HEARTBEAT}, default 60s: the probes' heartbeat, to judge staleness
 * @param leaseDuration  {@code LEASE_DURATION}, default 30s: how long a standby waits for a silent leader
 * @param renewDeadline  {@code RENEW_DEADLINE}, default 20s: how long the leader keeps trying to renew before it
 *                       steps down (and exits); longer than an API server restart (about 10 s)
 * @param retryPeriod    {@code RETRY_PERIOD}, default 2s: how often the Lease is renewed or tried
 * @param reconcileThreads {@code RECONCILE_THREADS}, default {@value #RECONCILE_THREADS}: reports decided at once.
 *                       A decision that writes waits on up to four API requests in a row (Node, its status, the
 *                       report, an Event), so the fleet converges at about threads / request latency
 */
public record OperatorConfig(String namespace, boolean leaderElection, String leaseName, String identity, int metricsPort,
                             Duration resync, Duration probeHeartbeat, Duration leaseDuration, Duration renewDeadline,
                             Duration retryPeriod, int reconcileThreads) {

    public static final int RECONCILE_THREADS = 100;

    public static final Duration LEASE_DURATION = Duration.ofSeconds(30);
    public static final Duration RENEW_DEADLINE = Duration.ofSeconds(20);
    public static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

    public OperatorConfig {
        if (reconcileThreads < 1) {
            throw new IllegalArgumentException("RECONCILE_THREADS must be at least 1, got " + reconcileThreads);
        }
        if (leaderElection && (renewDeadline.compareTo(leaseDuration) >= 0 || retryPeriod.compareTo(renewDeadline) >= 0)) {
            throw new IllegalArgumentException("leader election needs RETRY_PERIOD < RENEW_DEADLINE < LEASE_DURATION, got "
                    + retryPeriod + ", " + renewDeadline + ", " + leaseDuration);
        }
    }

    /** With the default lease timing. */
    public OperatorConfig(String namespace, boolean leaderElection, String leaseName, String identity, int metricsPort,
                          Duration resync, Duration probeHeartbeat) {
        this(namespace, leaderElection, leaseName, identity, metricsPort, resync, probeHeartbeat, LEASE_DURATION,
                RENEW_DEADLINE, RETRY_PERIOD, RECONCILE_THREADS);
    }

    /** With the default number of reconcile threads. */
    public OperatorConfig(String namespace, boolean leaderElection, String leaseName, String identity, int metricsPort,
                          Duration resync, Duration probeHeartbeat, Duration leaseDuration, Duration renewDeadline,
                          Duration retryPeriod) {
        this(namespace, leaderElection, leaseName, identity, metricsPort, resync, probeHeartbeat, leaseDuration,
                renewDeadline, retryPeriod, RECONCILE_THREADS);
    }

    public static OperatorConfig fromEnv(Map<String, String> env) {
        String ns = env.getOrDefault("POD_NAMESPACE", "execguard");
        boolean le = Boolean.parseBoolean(env.getOrDefault("LEADER_ELECTION", "true"));
        int port = integer(env, "METRICS_PORT", 9090);
        int threads = integer(env, "RECONCILE_THREADS", RECONCILE_THREADS);
        String identity = env.getOrDefault("POD_NAME", env.getOrDefault("HOSTNAME", "execguard-operator"));
        return new OperatorConfig(ns, le, env.getOrDefault("LEASE_NAME", "execguard-operator"), identity, port,
                Durations.parse(env.getOrDefault("RESYNC_INTERVAL", "60s")),
                Durations.parse(env.getOrDefault("PROBE_HEARTBEAT", "60s")),
                Durations.parse(env.getOrDefault("LEASE_DURATION", "30s")),
                Durations.parse(env.getOrDefault("RENEW_DEADLINE", "20s")),
                Durations.parse(env.getOrDefault("RETRY_PERIOD", "2s")), threads);
    }

    private static int integer(Map<String, String> env, String name, int dflt) {
        try {
            return env.containsKey(name) ? Integer.parseInt(env.get(name)) : dflt;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + env.get(name) + "'");
        }
    }
}
