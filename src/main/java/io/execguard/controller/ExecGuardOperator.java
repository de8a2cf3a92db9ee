package io.execguard.controller;

import java.time.Clock;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;

import io.execguard.probe.Metrics;

/** Builds the JOSDK operator with execguard's one controller; used by the CLI and by tests. */
public final class ExecGuardOperator {
    private ExecGuardOperator() {
    }

    public static Operator create(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock) {
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client).withCloseClientOnStop(false).withStopOnInformerErrorDuringStartup(false);
            if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(config.leaseName(), config.namespace()));
            }
        });
        operator.register(new NodeExecHealthReconciler(client, config, metrics, clock));
        return operator;
    }
}
