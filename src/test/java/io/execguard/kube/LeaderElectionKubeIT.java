package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;

import io.execguard.controller.ExecGuardOperator;
import io.execguard.controller.OperatorConfig;
import io.execguard.probe.Metrics;

/**
 * Two replicas, one Lease, on the real API server with the chart's RBAC and the operator's real token: JOSDK's
 * SelfSubjectRulesReview of its Lease permissions passes, only one replica holds the Lease, and the other
 * takes over when the leader stops.
 */
class LeaderElectionKubeIT {

    static final String LEASE = "leader-election-kubeit";
    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of("operator.leaseName", LEASE));
    }

    @AfterAll
    static void down() {
        admin.leases().inNamespace("execguard").withName(LEASE).delete();
        cluster.deleteAll(admin, chart);
        admin.close();
    }

    @Test
    void oneReplicaLeadsAndTheOtherTakesOver() throws Exception {
        String token = cluster.token(admin, "execguard", "execguard-operator");
        try (KubernetesClient ca = cluster.withToken(token); KubernetesClient cb = cluster.withToken(token)) {
            Operator a = ExecGuardOperator.create(ca, config("replica-a"), new Metrics(), Clock.systemUTC(), false);
            Operator b = ExecGuardOperator.create(cb, config("replica-b"), new Metrics(), Clock.systemUTC(), false);
            try {
                a.start();
                String first = holder(null);
                b.start();
                Thread.sleep(3000);
                assertEquals(first, holder(null), "the lease stays with the first replica");
                Operator leader = "replica-a".equals(first) ? a : b;
                leader.stop();
                String second = holder(first);
                assertTrue(second.startsWith("replica-") && !second.equals(first), second);
            } finally {
                a.stop();
                b.stop();
            }
        }
    }

    private static OperatorConfig config(String identity) {
        return new OperatorConfig("execguard", true, LEASE, identity, 0, Duration.ofSeconds(60), Duration.ofSeconds(60));
    }

    /** Waits for a lease holder other than {@code not}. */
    private static String holder(String not) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Lease l = admin.leases().inNamespace("execguard").withName(LEASE).get();
            String h = l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
            if (h != null && !h.isEmpty() && !h.equals(not)) {
                return h;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no lease holder other than " + not);
    }
}
