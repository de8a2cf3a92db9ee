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
 */
public record OperatorConfig(String namespace, boolean leaderElection, String leaseName, String identity, int metricsPort,
                             Duration resync, Duration probeHeartbeat) {

    public static OperatorConfig fromEnv(Map<String, String> env) {
        String ns = env.getOrDefault("POD_NAMESPACE", "execguard");
        boolean le = Boolean.parseBoolean(env.getOrDefault("LEADER_ELECTION", "true"));
        int port;
        try {
            port = Integer.parseInt(env.getOrDefault("METRICS_PORT", "9090"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("METRICS_PORT must be an integer, got '" + env.get("METRICS_PORT") + "'");
        }
        String identity = env.getOrDefault("POD_NAME", env.getOrDefault("HOSTNAME", "execguard-operator"));
        return new OperatorConfig(ns, le, env.getOrDefault("LEASE_NAME", "execguard-operator"), identity, port,
                Durations.parse(env.getOrDefault("RESYNC_INTERVAL", "60s")),
                Durations.parse(env.getOrDefault("PROBE_HEARTBEAT", "60s")));
    }
}
