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
import io.execguard.api.StormGuard;
import io.execguard.api.Suppression;
import io.execguard.controller.decide.NodePlan;
import io.execguard.controller.write.InvalidObjects;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.Cause;
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
    private final Metrics metrics = new Metrics();
    private Operator operator;

    @BeforeEach
    void start() {
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(ExecHealthPolicy.class));
        OperatorConfig config = new OperatorConfig("execguard", false, "execguard-operator", "test", 0, Duration.ofSeconds(2),
                Duration.ofSeconds(60));
        operator = ExecGuardOperator.create(client, config, metrics, clock);
        operator.start();
    }

    @AfterEach
    void stop() {
        operator.stop();
    }

    static ReportedFinding finding(Severity severity, Scope scope, Cause cause, MountStatus mount) {
        return io.execguard.api.TestFindings.finding(severity, scope, cause, mount);
    }

    Node node(String name, Map<String, String> labels, boolean unschedulable, Taint... taints) {
        return client.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(labels)
                .endMetadata().withNewSpec().withUnschedulable(unschedulable ? true : null).withTaints(taints)
                .endSpec().build()).create();
    }

    /** What a probe would write: the report for a node, probed now. */
    void report(String name, ReportedFinding... findings) {
        report(name, clock.now.toString(), findings);
    }

    /** A report with this lastProbeTime (valid or not: the mock server has no schema). */
    void report(String name, String lastProbeTime, ReportedFinding... findings) {
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
                    s.setLastProbeTime(lastProbeTime);
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
        RemediationStatus r = await(() -> remediation("n4"), x -> x != null && x.getSuppressed() == Suppression.OptOut,
                "optOut status");
        assertEquals(Action.None, r.getAction(), "what is on the Node: nothing");
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
        RemediationStatus rd = await(() -> remediation("n5"), x -> x != null && x.getSuppressed() == Suppression.DryRun,
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

    // ---- defensive reading (issue 11 point 4) and incident Events (point 6) ----

    List<io.fabric8.kubernetes.api.model.Event> events(String involved, String reason) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> involved.equals(e.getInvolvedObject().getName()) && reason.equals(e.getReason())).toList();
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    ExecHealthPolicy policy(String name, Map<String, String> selector, io.fabric8.kubernetes.api.model.IntOrString max) {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(name);
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        spec.setNodeSelector(selector);
        spec.setMaxUnhealthy(max);
        StormGuard calm = new StormGuard(); // these tests fail most of their few nodes on purpose
        calm.setMaxFailing(new io.fabric8.kubernetes.api.model.IntOrString("100%"));
        spec.setStormGuard(calm);
        p.setSpec(spec);
        return client.resource(p).create();
    }

    void setMaxUnhealthy(String policy, io.fabric8.kubernetes.api.model.IntOrString max) {
        client.resources(ExecHealthPolicy.class).withName(policy).edit(p -> {
            p.getSpec().setMaxUnhealthy(max);
            return p;
        });
    }

    @Test
    void oneUnreadableReportNeitherBlocksTheOthersNorHoldsItsNode() {
        policy("roomy", Map.of(), new io.fabric8.kubernetes.api.model.IntOrString(5)); // the cap is not under test
        node("bad", Map.of(), false);
        // stored before the CRD said format: date-time
        report("bad", "yesterday", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        sleep(Duration.ofMillis(2500)); // past the fleet's 2 s backend cache: every later refresh reads "bad"
        for (String n : List.of("ok1", "ok2")) {
            node(n, Map.of(), false);
            report(n, finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        }
        await(() -> nodeNow("ok1"), OperatorMockServerTest::cordonedByUs, "ok1 cordoned despite the bad report");
        await(() -> nodeNow("ok2"), OperatorMockServerTest::cordonedByUs, "ok2 cordoned despite the bad report");
        RemediationStatus bad = await(() -> remediation("bad"), x -> x != null, "the bad report decided");
        assertEquals(Suppression.Stale, bad.getSuppressed(), "unknown evidence: " + bad);
        assertEquals(Action.None, bad.getAction());
        Node badNode = nodeNow("bad");
        assertFalse(cordonedByUs(badNode));
        assertFalse(NodePlan.hasTaint(badNode));

        var warned = await(() -> events("bad", "InvalidNodeExecHealth"), l -> !l.isEmpty(), "Event on the report");
        assertEquals("Warning", warned.get(0).getType());
        assertEquals("NodeExecHealth", warned.get(0).getInvolvedObject().getKind());
        assertTrue(warned.get(0).getMessage().contains("status.lastProbeTime 'yesterday'"), warned.get(0).getMessage());
        sleep(Duration.ofSeconds(5)); // two resyncs: reported once, not on every reconcile
        assertEquals(1, events("bad", "InvalidNodeExecHealth").size());
        assertEquals(1.0, metrics.value(InvalidObjects.METRIC, "kind", "NodeExecHealth"));
        assertFalse(cordonedByUs(nodeNow("bad")));
    }

    @Test
    void policyWithATypoInMaxUnhealthyHoldsNothingNewAndReleasesNothingUntilFixed() {
        var five = new io.fabric8.kubernetes.api.model.IntOrString(5);
        policy("typo", Map.of("pool", "typo"), five);
        node("t1", Map.of("pool", "typo"), false);
        report("t1", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        await(() -> nodeNow("t1"), OperatorMockServerTest::cordonedByUs, "t1 cordoned under the sound policy");

        setMaxUnhealthy("typo", new io.fabric8.kubernetes.api.model.IntOrString("ten"));
        var warned = await(() -> events("typo", "InvalidExecHealthPolicy"), l -> !l.isEmpty(), "Event on the policy");
        assertTrue(warned.get(0).getMessage().contains("spec.maxUnhealthy 'ten'"), warned.get(0).getMessage());
        node("t2", Map.of("pool", "typo"), false);
        report("t2", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        RemediationStatus t2 = await(() -> remediation("t2"), x -> x != null && !"ProbeNotReporting".equals(x.getReason()),
                "t2 decided under the invalid policy");
        assertEquals(Action.None, t2.getAction(), "no new mark, not even the annotation: " + t2);
        assertEquals(Suppression.InvalidPolicy, t2.getSuppressed());
        assertNull(NodePlan.condition(nodeNow("t2")));
        assertFalse(NodePlan.hasTaint(nodeNow("t2")));

        // t1 healthy for longer than releaseAfter (5m): still held while the policy is unreadable
        report("t1");
        await(() -> remediation("t1"), x -> "Recovering".equals(x.getReason()), "t1 recovering");
        clock.now = clock.now.plusSeconds(400);
        report("t1");
        report("t2", finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null));
        sleep(Duration.ofSeconds(5));
        assertTrue(cordonedByUs(nodeNow("t1")), "nothing released because of the invalid policy");
        assertEquals("Recovering", remediation("t1").getReason());
        assertFalse(cordonedByUs(nodeNow("t2")));
        assertEquals(1, events("typo", "InvalidExecHealthPolicy").size(), "reported once");
        assertEquals(1.0, metrics.value(InvalidObjects.METRIC, "kind", "ExecHealthPolicy"));

        // fixed: the policy decides again
        setMaxUnhealthy("typo", five);
        await(() -> nodeNow("t2"), OperatorMockServerTest::cordonedByUs, "t2 cordoned once the policy is fixed");
        await(() -> nodeNow("t1"), x -> !cordonedByUs(x), "t1 released once the policy is fixed");
    }

    @Test
    void anUnchangedIncidentIsAnnouncedOncePerPolicy() {
        policy("pa", Map.of("pool", "a"), null);
        policy("pb", Map.of("pool", "b"), null);
        MountStatus ceph = new MountStatus("ceph", "10.0.0.9:6789:/vol", "/data", null);
        for (String n : List.of("ia1", "ia2", "ib1")) {
            node(n, Map.of("pool", n.substring(1, 2)), false);
            report(n, finding(Severity.Critical, Scope.Node, Cause.CephRequest, ceph));
        }
        // one incident fleet-wide (3 nodes); each policy lists it with its own nodes
        for (var p : Map.of("pa", 2, "pb", 1).entrySet()) {
            await(() -> client.resources(ExecHealthPolicy.class).withName(p.getKey()).get(),
                    x -> x.getStatus() != null && x.getStatus().getIncidents() != null
                            && x.getStatus().getIncidents().size() == 1
                            && x.getStatus().getIncidents().get(0).getNodes().size() == p.getValue(),
                    "incident on " + p.getKey());
        }
        await(() -> events("pb", "SharedBackendIncident"), l -> !l.isEmpty(), "Event on pb");
        int pa = events("pa", "SharedBackendIncident").size();
        int pb = events("pb", "SharedBackendIncident").size();
        sleep(Duration.ofSeconds(6)); // three resyncs of every report, interleaving the two policies
        assertEquals(pa, events("pa", "SharedBackendIncident").size(), "pa: no Event for an unchanged incident");
        assertEquals(pb, events("pb", "SharedBackendIncident").size(), "pb: no Event for an unchanged incident");
        assertTrue(pa >= 1 && pa <= 2 && pb == 1, "pa: at most one node, then two; pb: one; pa=" + pa + " pb=" + pb);
    }
}
