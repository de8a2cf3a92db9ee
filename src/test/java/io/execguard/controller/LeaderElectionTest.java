package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;


import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.NodeExecHealth;
import io.execguard.probe.Metrics;

/** Two replicas, one Lease: only the leader reconciles; the other takes over when it stops. */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionTest {

    KubernetesMockServer server;
    KubernetesClient client;

    @Test
    void oneReplicaLeadsAndTheOtherTakesOver() throws Exception {
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(ExecHealthPolicy.class));
        // JOSDK checks its Lease permissions with a SelfSubjectRulesReview first; grant them as RBAC would
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
                .andReturn(201, new io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder()
                        .withNewStatus().addNewResourceRule().withApiGroups("coordination.k8s.io")
                        .withResources("leases").withVerbs("get", "create", "update").endResourceRule()
                        .withIncomplete(false).endStatus().build()).always();
        client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
                .withName("execguard").endMetadata().build()).create();
        Metrics ma = new Metrics();
        Metrics mb = new Metrics();
        Operator a = ExecGuardOperator.create(client, config("replica-a"), ma, Clock.systemUTC(), false);
        Operator b = ExecGuardOperator.create(client, config("replica-b"), mb, Clock.systemUTC(), false);
        a.start();
        String first = holder(null);
        b.start();
        Thread.sleep(1500);
        assertEquals(first, holder(null), "the lease stays with the first replica");
        Operator leader = "replica-a".equals(first) ? a : b;
        leader.stop();
        String second = holder(first);
        assertTrue(second.startsWith("replica-") && !second.equals(first), second);
        (leader == a ? b : a).stop();
    }

    private static OperatorConfig config(String identity) {
        return new OperatorConfig("execguard", true, "execguard-operator", identity, 0, Duration.ofSeconds(60),
                Duration.ofSeconds(60));
    }

    /** Waits for a lease holder other than {@code not}. */
    private String holder(String not) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Lease l = client.leases().inNamespace("execguard").withName("execguard-operator").get();
            String h = l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
            if (h != null && !h.isEmpty() && !h.equals(not)) {
                return h;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no lease holder other than " + not);
    }

}
