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

    /** The production operator: a replica that loses its lease exits, and its pod restarts as a follower. */
    public static Operator create(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock) {
        return create(client, config, metrics, clock, true);
    }

    public static Operator create(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock,
                                  boolean exitOnLostLease) {
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client).withCloseClientOnStop(false).withStopOnInformerErrorDuringStartup(false)
                    .withConcurrentReconciliationThreads(config.reconcileThreads());
            if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(config.leaseName(), config.namespace(),
                        config.leaseDuration(), config.renewDeadline(), config.retryPeriod(), config.identity(),
                        null, exitOnLostLease));
            }
        });
        operator.register(new NodeExecHealthReconciler(client, config, metrics, clock));
        return operator;
    }
}
