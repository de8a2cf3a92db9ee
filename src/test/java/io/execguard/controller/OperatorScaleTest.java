package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.RemediationStatus;
import io.execguard.api.TestFleet;
import io.execguard.controller.decide.NodePlan;
import io.execguard.probe.Metrics;

/**
 * 5,000 nodes with reports, 30 % of them Critical at node scope, default policy (maxUnhealthy 10 %):
 * at most 500 nodes are held, every other unhealthy node gets nothing on its Node and its report says suppressed, and a
 * second pass over an unchanged fleet writes nothing. Prints time to converge and API writes.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorScaleTest {

    KubernetesMockServer server;
    KubernetesClient client;

    private static final int NODES = 5000;
    private static final int UNHEALTHY = NODES * 30 / 100;

    @Test
    void fiveThousandNodesRespectMaxUnhealthyAndASecondPassWritesNothing() throws Exception {
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(
                io.execguard.api.ExecHealthPolicy.class));
        // the defaults, but no rate limit to speak of: this measures the decisions, not the limit's patience
        io.execguard.api.ExecHealthPolicy p = new io.execguard.api.ExecHealthPolicy();
        p.getMetadata().setName("scale");
        p.setSpec(new io.execguard.api.ExecHealthPolicySpec());
        p.getSpec().setStormGuard(new io.execguard.api.StormGuard());
        p.getSpec().getStormGuard().setNewHoldsPerMinute(NODES);
        client.resource(p).create();
        Clock clock = Clock.fixed(Instant.parse("2026-11-23T10:00:00Z"), ZoneOffset.UTC);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        long t0 = System.nanoTime();
        List<Future<?>> work = new java.util.ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            int n = i;
            work.add(pool.submit(() -> createNodeAndReport(n, clock.instant())));
        }
        for (Future<?> f : work) {
            f.get();
        }
        pool.shutdown();
        System.out.printf("[scale] created %d nodes and reports in %.1f s%n", NODES, (System.nanoTime() - t0) / 1e9);

        Metrics metrics = new Metrics();
        OperatorConfig config = new OperatorConfig("execguard", false, "lease", "test", 0, Duration.ofSeconds(20),
                Duration.ofSeconds(60));
        Operator operator = ExecGuardOperator.create(client, config, metrics, clock);
        long start = System.nanoTime();
        operator.start();
        try {
            waitUntil(() -> metrics.value("execguard_reconciles_total") >= NODES && decided() == UNHEALTHY, 240);
            double converge = (System.nanoTime() - start) / 1e9;
            // every report has its decision; the last Node and condition writes of the first pass may still be in
            // flight on the reconcile threads: the first pass ends when no write has been made for 3 s
            double writes = quiesced(metrics, Duration.ofSeconds(3), 60);
            long cordoned = client.nodes().list().getItems().stream()
                    .filter(n -> Boolean.TRUE.equals(n.getSpec().getUnschedulable())).count();
            List<RemediationStatus> rs = client.resources(NodeExecHealth.class).list().getItems().stream()
                    .map(n -> n.getStatus().getRemediation()).filter(java.util.Objects::nonNull).toList();
            assertEquals(UNHEALTHY, rs.size(), "a healthy node that never had a decision gets no remediation written");
            long suppressed = rs.stream().filter(r -> r.getSuppressed() == io.execguard.api.Suppression.MaxUnhealthy).count();
            long held = rs.stream().filter(r -> r.getAction().holdsNode()).count();
            long annotated = client.nodes().list().getItems().stream()
                    .filter(n -> n.getMetadata().getAnnotations() != null
                            && n.getMetadata().getAnnotations().containsKey(NodePlan.ANNOTATION_HEALTH)).count();
            System.out.printf("[scale] converged in %.1f s: %d cordoned, %d suppressed (maxUnhealthy), "
                    + "%.0f API writes%n", converge, cordoned, suppressed, writes);
            assertEquals(500, cordoned, "maxUnhealthy 10 % of 5000");
            assertEquals(500, held);
            assertEquals(UNHEALTHY - 500, suppressed);
            assertEquals(500, annotated, "held back by the cap, the others get nothing on the Node");

            // second pass: every report is re-decided on resync; nothing changed, so nothing is written
            double reconciled = metrics.value("execguard_reconciles_total");
            waitUntil(() -> metrics.value("execguard_reconciles_total") >= reconciled + NODES, 240);
            double second = writes(metrics) - writes;
            System.out.printf("[scale] second pass: %.0f reconciles, %.0f API writes%n",
                    metrics.value("execguard_reconciles_total") - reconciled, second);
            assertEquals(0, second);
        } finally {
            operator.stop();
        }
    }

    /** The write count once it has not changed for {@code quiet} (fails after {@code seconds}). */
    private static double quiesced(Metrics m, Duration quiet, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        double last = writes(m);
        long since = System.nanoTime();
        while (System.nanoTime() - since < quiet.toNanos()) {
            assertTrue(System.nanoTime() < deadline, "writes did not stop within " + seconds + " s of convergence");
            Thread.sleep(100);
            double now = writes(m);
            if (now != last) {
                last = now;
                since = System.nanoTime();
            }
        }
        return last;
    }

    private static double writes(Metrics m) {
        return m.value("execguard_node_writes_total", "object", "node")
                + m.value("execguard_node_writes_total", "object", "node-status")
                + m.value("execguard_node_writes_total", "object", "nodeexechealth")
                + m.value("execguard_node_writes_total", "object", "exechealthpolicy");
    }

    /** Reports with a decision recorded (healthy ones never had one: absent means nothing to do). */
    private long decided() {
        return client.resources(NodeExecHealth.class).list().getItems().stream()
                .filter(n -> n.getStatus() != null && n.getStatus().getRemediation() != null).count();
    }

    private void createNodeAndReport(int i, Instant now) {
        String name = String.format("node-%04d", i);
        Node node = client.nodes().resource(TestFleet.node(name, Map.of("pool", "default"))).create();
        NodeExecHealth neh = NodeExecHealth.forNode(node);
        neh.setStatus(TestFleet.status(i, now, null));
        client.resources(NodeExecHealth.class).resource(neh).create();
    }

    private static void waitUntil(java.util.function.BooleanSupplier ok, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (!ok.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "did not converge within " + seconds + " s");
            Thread.sleep(500);
        }
    }
}
