package io.execguard.controller;

import java.time.Clock;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.Cloner;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;

import io.execguard.probe.Metrics;

/** Builds the JOSDK operator with execguard's one controller; used by the CLI and by tests. */
public final class ExecGuardOperator {
    private ExecGuardOperator() {
    }

    /**
     * JOSDK clones every report before it hands it to a reconcile (a Jackson round trip: ~6 % of the operator's Java
     * samples at 15,000 nodes, two reconciles a report), so that a reconciler that changes its argument cannot
     * change the informer's cache. Ours never changes it: it reads the report into values ({@code ReportReading})
     * and writes by patches built from them ({@code ReportRecorder}, {@code NodeWriter}); it never returns an
     * update of the primary ({@code UpdateControl.noUpdate()} only).
     */
    static final Cloner NO_CLONE = new Cloner() {
        @Override
        public <R extends HasMetadata> R clone(R object) {
            return object;
        }
    };

    /**
     * The operator's client: fabric8's defaults (kubeconfig or in-cluster config, its HTTP client), with the
     * {@link #serialization()} below.
     */
    public static KubernetesClient client() {
        return new KubernetesClientBuilder().withKubernetesSerialization(serialization()).build();
    }

    /**
     * fabric8's serialization with Jackson's field-name canonicalization off. Jackson keeps a table of the field
     * names it has read, shared by every parser and copied by each parser that adds a name; a report's
     * managedFields name its owner reference by the Node's uid ({@code k:{"uid":"..."}}), a field name unique to each
     * report, so every report event added a name and copied the whole table: 336–397 KB allocated to read one
     * report of ~1 KB, against 23 KB without the table, and 2.8× the time (15,000 reports, C1).
     */
    static KubernetesSerialization serialization() {
        JsonFactory json = JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build();
        return new KubernetesSerialization(new ObjectMapper(json), true);
    }

    /** The production operator: a replica that loses its lease exits, and its pod restarts as a follower. */
    public static Operator create(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock) {
        return create(client, config, metrics, clock, true);
    }

    public static Operator create(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock,
                                  boolean exitOnLostLease) {
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client).withCloseClientOnStop(false).withStopOnInformerErrorDuringStartup(false)
                    .withConcurrentReconciliationThreads(config.reconcileThreads())
                    .withResourceCloner(NO_CLONE);
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
