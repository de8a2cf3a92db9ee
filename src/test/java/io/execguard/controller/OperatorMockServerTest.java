package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;

import io.execguard.api.Action;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.MountStatus;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.Phase;
import io.execguard.api.RemediationStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.Cause;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.probe.Metrics;

/** The running operator against the CRUD mock API server, observing Nodes. */
@EnableKubernetesMockClient(crud = true)
class OperatorMockServerTest {

    KubernetesMockServer server;
    KubernetesClient client;

    static final class MutableClock extends Clock {
        volatile Instant now = Instant.parse("2026-11-23T10:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final MutableClock clock = new MutableClock();
    private Operator operator;

    @BeforeEach
    void start() {
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(ExecHealthPolicy.class));
        OperatorConfig config = new OperatorConfig("execguard", false, "execguard-operator", "test", 0, Duration.ofSeconds(2),
                Duration.ofSeconds(60));
        operator = ExecGuardOperator.create(client, config, new Metrics(), clock);
        operator.start();
    }

    @AfterEach
    void stop() {
        operator.stop();
    }

    static ReportedFinding finding(Severity severity, Scope scope, Cause cause, MountStatus mount) {
        ReportedFinding f = new ReportedFinding();
        f.setId(cause + "/" + scope);
        f.setType(scope == Scope.Node ? FindingType.UnkillableTask : FindingType.PidsLimitReached);
        f.setCause(cause);
        f.setSeverity(severity);
        f.setScope(scope);
        f.setMessage("stuck: " + cause);
        f.setMount(mount);
        return f;
    }

    Node node(String name, Map<String, String> labels, boolean unschedulable, Taint... taints) {
        return client.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(labels)
                .endMetadata().withNewSpec().withUnschedulable(unschedulable ? true : null).withTaints(taints)
                .endSpec().build()).create();
    }

    /** What a probe would write: the report for a node, probed now. */
    void report(String name, ReportedFinding... findings) {
        var res = client.resources(NodeExecHealth.class);
        if (res.withName(name).get() == null) {
            NodeExecHealth neh = NodeExecHealth.forNode(client.nodes().withName(name).get());
            res.resource(neh).create();
        }
        for (int attempt = 0; ; attempt++) {
            try {
                res.withName(name).editStatus(n -> {
                    NodeExecHealthStatus s = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
                    s.setPhase(findings.length == 0 ? Phase.Healthy : Phase.Unhealthy);
                    s.setFindings(List.of(findings));
                    s.setLastProbeTime(clock.now.toString());
                    n.setStatus(s);
                    return n;
                });
                return;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt > 5) {
                    throw e; // like the probe, retry when the operator wrote remediation in between
                }
            }
        }
    }

    static <T> T await(Supplier<T> get, Predicate<T> ok, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        T v = get.get();
        while (!ok.test(v)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; last: " + v);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            v = get.get();
        }
        return v;
    }

    Node nodeNow(String name) {
        return client.nodes().withName(name).get();
    }

    RemediationStatus remediation(String name) {
        NodeExecHealth n = client.resources(NodeExecHealth.class).withName(name).get();
        return n == null || n.getStatus() == null ? null : n.getStatus().getRemediation();
    }

    static boolean cordonedByUs(Node n) {
        return Boolean.TRUE.equals(n.getSpec().getUnschedulable()) && n.getMetadata().getAnnotations() != null
                && "execguard".equals(n.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_CORDONED_BY));
    }

    @Test
    void nodeCriticalCordonsTaintsAnnotatesAndSetsTheConditionThenReleases() {
        Taint other = new Taint("NoSchedule", "gpu", null, "true");
        node("n1", Map.of(), false, other);
        report("n1", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        Node n = await(() -> nodeNow("n1"), OperatorMockServerTest::cordonedByUs, "cordon");
        assertTrue(NodePlan.hasTaint(n));
        assertTrue(n.getSpec().getTaints().stream().anyMatch(t -> t.getKey().equals("gpu")), "other taints kept");
        n = await(() -> nodeNow("n1"), x -> "Unhealthy".equals(x.getMetadata().getAnnotations()
                .get(NodePlan.ANNOTATION_HEALTH)), "annotation");
        assertEquals("FuseRequest", n.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_REASON));
        await(() -> NodePlan.condition(nodeNow("n1")), c -> c != null && "False".equals(c.getStatus()), "condition");
        RemediationStatus r = await(() -> remediation("n1"), x -> x != null && x.getAction() == Action.Cordon, "status");
        assertNull(r.getSuppressed());

        // healthy again: held for releaseAfter (5 min), then everything of ours is removed
        report("n1");
        clock.now = clock.now.plusSeconds(60);
        report("n1");
        await(() -> remediation("n1"), x -> "Recovering".equals(x.getReason()), "recovering");
        assertTrue(cordonedByUs(nodeNow("n1")));
        clock.now = clock.now.plusSeconds(301);
        report("n1");
        Node released = await(() -> nodeNow("n1"), x -> !Boolean.TRUE.equals(x.getSpec().getUnschedulable()), "release");
        assertFalse(NodePlan.hasTaint(released));
        assertTrue(released.getSpec().getTaints().stream().anyMatch(t -> t.getKey().equals("gpu")), "other taint kept");
        assertNull(released.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_CORDONED_BY));
        assertNull(released.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_HEALTH));
        await(() -> NodePlan.condition(nodeNow("n1")), c -> "True".equals(c.getStatus()), "condition True");
    }

    @Test
    void containerScopeOnlyAnnotates() {
        node("n2", Map.of(), false);
        report("n2", finding(Severity.Critical, Scope.Container, Cause.PidsLimit, null));
        await(() -> remediation("n2"), x -> x != null && x.getAction() == Action.Annotate, "annotate");
        Node n = nodeNow("n2");
        assertEquals("PidsLimit", n.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_REASON));
        assertFalse(NodePlan.hasTaint(n));
        assertNull(n.getSpec().getUnschedulable());
    }

    @Test
    void someoneElsesCordonIsNeverUndone() {
        node("n3", Map.of(), true);
        report("n3", finding(Severity.Critical, Scope.Node, Cause.NfsRequest, null));
        Node n = await(() -> nodeNow("n3"), NodePlan::hasTaint, "taint");
        assertNull(n.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_CORDONED_BY));
        report("n3");
        await(() -> remediation("n3"), x -> x != null && "Recovering".equals(x.getReason()), "recovering");
        clock.now = clock.now.plusSeconds(400);
        report("n3");
        Node after = await(() -> nodeNow("n3"), x -> !NodePlan.hasTaint(x), "release");
        assertTrue(after.getSpec().getUnschedulable(), "still cordoned by its owner");
    }

    @Test
    void optOutLabelAndDryRunLeaveTheNodeAlone() {
        node("n4", Map.of(NodePlan.OPT_OUT_LABEL, "disabled"), false);
        report("n4", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        RemediationStatus r = await(() -> remediation("n4"), x -> x != null && "optOut".equals(x.getSuppressed()),
                "optOut status");
        assertEquals(Action.Cordon, r.getAction());
        assertNull(nodeNow("n4").getSpec().getUnschedulable());
        assertFalse(NodePlan.hasTaint(nodeNow("n4")));

        ExecHealthPolicy dry = new ExecHealthPolicy();
        dry.getMetadata().setName("dry");
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        spec.setDryRun(true);
        spec.setNodeSelector(Map.of("pool", "dry"));
        dry.setSpec(spec);
        client.resource(dry).create();
        node("n5", Map.of("pool", "dry"), false);
        report("n5", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        RemediationStatus rd = await(() -> remediation("n5"), x -> x != null && "dryRun".equals(x.getSuppressed()),
                "dry run status");
        assertEquals(Action.Cordon, rd.getAction());
        Node n5 = nodeNow("n5");
        assertNull(n5.getSpec().getUnschedulable());
        assertFalse(NodePlan.hasTaint(n5));
        assertTrue(n5.getMetadata().getAnnotations() == null
                || !n5.getMetadata().getAnnotations().containsKey(NodePlan.ANNOTATION_HEALTH));
        var ev = await(() -> client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> "n5".equals(e.getInvolvedObject().getName())).toList(), l -> !l.isEmpty(), "dry-run event");
        assertTrue(ev.get(0).getMessage().startsWith("[dry run] would have cordoned"), ev.get(0).getMessage());
    }

    @Test
    void staleReportBecomesUnknownAndHoldsWhatIsApplied() {
        node("n6", Map.of(), false);
        report("n6", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        await(() -> nodeNow("n6"), OperatorMockServerTest::cordonedByUs, "cordon");
        clock.now = clock.now.plusSeconds(600); // 10 min without a report: 3 heartbeats is 3 min
        NodeExecHealth neh = await(() -> client.resources(NodeExecHealth.class).withName("n6").get(),
                x -> x.getStatus().getPhase() == Phase.Unknown, "Unknown");
        assertEquals("Unknown", neh.getStatus().getConditions().get(0).getStatus());
        assertTrue(cordonedByUs(nodeNow("n6")), "no release while the probe is silent");
        await(() -> NodePlan.condition(nodeNow("n6")), c -> "Unknown".equals(c.getStatus()), "node condition Unknown");
    }

    @Test
    void nodesFailingOnTheSameBackendAreOneIncident() {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName("default");
        p.setSpec(new ExecHealthPolicySpec());
        client.resource(p).create();
        MountStatus ceph = new MountStatus("ceph", "10.0.0.1:6789:/vol", "/data", null);
        for (String n : List.of("c1", "c2", "c3")) {
            node(n, Map.of(), false);
            report(n, finding(Severity.Critical, Scope.Node, Cause.CephRequest, ceph));
        }
        ExecHealthPolicy after = await(() -> client.resources(ExecHealthPolicy.class).withName("default").get(),
                x -> x.getStatus() != null && x.getStatus().getIncidents() != null
                        && !x.getStatus().getIncidents().isEmpty()
                        && x.getStatus().getIncidents().get(0).getNodes().size() == 3, "incident");
        assertEquals(Cause.CephRequest, after.getStatus().getIncidents().get(0).getCause());
        assertEquals("ceph 10.0.0.1:6789:/vol", after.getStatus().getIncidents().get(0).getBackend());
        assertNotNull(after.getStatus().getNodesHeld());
    }
}
