package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.Action;
import io.execguard.api.ActionLadder;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.Phase;
import io.execguard.api.RemediationStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.api.TestFindings;
import io.execguard.controller.decide.NodePlan;
import io.execguard.api.Suppression;
import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/**
 * The real operator process ({@code java -jar execguard.jar operator}) authenticated as the chart's operator
 * service account (a real token, the chart's RBAC and admission applied), leader-elected through a real Lease,
 * driving real Node objects through every transition of docs/ARCHITECTURE.md's decision table. The test plays
 * the probe: it writes each NodeExecHealth as admin, the report through the status subresource.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorProcessKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorProcessKubeIT.class);

    static final String PREFIX = "opit-";
    static final String SUITE_LABEL = "execguard.test/suite";
    static final String SUITE = "operator-process-it";
    static final String NAMESPACE = "execguard";
    static final String OPERATOR_SA = "execguard-operator";
    static final String LEASE = PREFIX + "operator";
    static final String IDENTITY = PREFIX + "replica-1";
    /** The operator takes the first selecting policy by name: "a-" keeps ours ahead of another test's leftovers. */
    static final String MAIN_POLICY = "a-" + PREFIX + "main";
    static final String DRY_POLICY = "a-" + PREFIX + "dry";
    static final Duration RELEASE_AFTER = Duration.ofSeconds(8);
    static final Duration WAIT = Duration.ofSeconds(90);

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static OperatorProcess operator;

    @BeforeAll
    static void up() throws Exception {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        cleanUp();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of("operator.leaseName", LEASE));
        admin.resource(policy(MAIN_POLICY, Map.of(SUITE_LABEL, SUITE), false)).create();
        admin.resource(policy(DRY_POLICY, Map.of(SUITE_LABEL, SUITE, "pool", "dry"), true)).create();

        Path dir = Files.createDirectories(Path.of("target", "kube-it"));
        String token = cluster.token(admin, NAMESPACE, OPERATOR_SA);
        Path kubeconfig = cluster.kubeconfigFor(token, dir.resolve("operator.kubeconfig"));
        Path jar = Path.of(System.getProperty("execguard.jar", "target/execguard.jar"));
        operator = OperatorProcess.start(jar, kubeconfig, Map.of("POD_NAMESPACE", NAMESPACE, "POD_NAME", IDENTITY,
                "LEADER_ELECTION", "true", "LEASE_NAME", LEASE, "RESYNC_INTERVAL", "2s", "PROBE_HEARTBEAT", "30s"),
                dir.resolve("operator-process.log"));
        LOG.info("operator pid {} as {}/{}, log {}", operator.process().pid(), NAMESPACE, OPERATOR_SA, operator.log());
    }

    @AfterAll
    static void down() {
        try {
            if (operator != null) {
                operator.close();
            }
        } finally {
            try {
                cleanUp();
                // the namespace stays: other tests of the shared cluster apply into it
                cluster.deleteAll(admin, chart.stream().filter(o -> !"Namespace".equals(o.getKind())).toList());
            } finally {
                admin.close();
            }
        }
    }

    /** Deletes everything this class creates (also what a failed earlier run left behind). */
    static void cleanUp() {
        admin.nodes().withLabel(SUITE_LABEL, SUITE).delete();
        admin.resources(NodeExecHealth.class).list().getItems().stream()
                .filter(n -> n.getMetadata().getName().startsWith(PREFIX))
                .forEach(n -> admin.resource(n).delete());
        for (String p : List.of(MAIN_POLICY, DRY_POLICY)) {
            admin.resources(ExecHealthPolicy.class).withName(p).delete();
        }
        admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getInvolvedObject() != null && e.getInvolvedObject().getName() != null
                        && e.getInvolvedObject().getName().startsWith(PREFIX))
                .forEach(e -> admin.resource(e).delete());
        if (admin.namespaces().withName(NAMESPACE).get() != null) {
            admin.leases().inNamespace(NAMESPACE).withName(LEASE).delete();
        }
    }

    static ExecHealthPolicy policy(String name, Map<String, String> selector, boolean dryRun) {
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        spec.setNodeSelector(selector);
        spec.setActions(new ActionLadder(Action.Cordon, Action.Taint, Action.Condition, Action.Annotate));
        spec.setReleaseAfter(RELEASE_AFTER.toSeconds() + "s");
        spec.setMaxUnhealthy(new IntOrString(20));
        // One node per transition, several of them held at once (the condition of test 3 while test 4 taints): with
        // the default storm guard (more than 50 % failing is an incident) 2 of 3 nodes failing suppresses the taint.
        // The storm guard is OperatorSafetyKubeIT's and DecisionTest's subject; here it never trips.
        io.execguard.api.StormGuard guard = new io.execguard.api.StormGuard();
        guard.setMaxFailing(new IntOrString("100%"));
        spec.setStormGuard(guard);
        spec.setDryRun(dryRun);
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(name);
        p.setSpec(spec);
        return p;
    }

    // ---- the cluster as the kubelet and the probe would leave it ----

    /** A Node of this suite whose "kubelet" reports Ready in status.conditions (which execguard must keep). */
    static void createNode(String name, Map<String, String> extraLabels, boolean unschedulable) {
        Map<String, String> labels = new HashMap<>(extraLabels);
        labels.put(SUITE_LABEL, SUITE);
        admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withNewSpec().withUnschedulable(unschedulable ? Boolean.TRUE : null).endSpec().build()).create();
        for (int attempt = 1; ; attempt++) {
            try {
                admin.nodes().withName(name).editStatus(n -> {
                    if (n.getStatus() == null) {
                        n.setStatus(new io.fabric8.kubernetes.api.model.NodeStatus());
                    }
                    n.getStatus().setConditions(List.of(new NodeConditionBuilder().withType("Ready").withStatus("True")
                            .withReason("KubeletReady").withMessage("kubelet is posting ready status")
                            .withLastHeartbeatTime(Instant.now().toString()).withLastTransitionTime(Instant.now().toString())
                            .build()));
                    return n;
                });
                break;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= 5) {
                    throw e; // the node controller annotates new Nodes concurrently
                }
            }
        }
    }

    static ReportedFinding finding(Severity severity, Scope scope, Cause cause) {
        return TestFindings.finding(severity, scope, cause, null);
    }

    /** What the probe writes: the report (create once, then status via the status subresource). */
    static void report(String node, Instant probeTime, ReportedFinding... findings) {
        var res = admin.resources(NodeExecHealth.class);
        if (res.withName(node).get() == null) {
            res.resource(NodeExecHealth.forNode(admin.nodes().withName(node).get())).create();
        }
        for (int attempt = 1; ; attempt++) {
            try {
                res.withName(node).editStatus(n -> {
                    NodeExecHealthStatus s = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
                    s.setPhase(findings.length == 0 ? Phase.Healthy
                            : findings[0].getSeverity() == Severity.Critical ? Phase.Unhealthy : Phase.Degraded);
                    s.setFindings(List.of(findings));
                    s.setLastProbeTime(probeTime.toString());
                    n.setStatus(s);
                    return n;
                });
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= 5) {
                    throw e;
                }
            }
        }
    }

    static void report(String node, ReportedFinding... findings) {
        report(node, Instant.now(), findings);
    }

    // ---- what the server holds ----

    static Node node(String name) {
        return admin.nodes().withName(name).get();
    }

    static RemediationStatus remediation(String name) {
        NodeExecHealth n = admin.resources(NodeExecHealth.class).withName(name).get();
        return n == null || n.getStatus() == null ? null : n.getStatus().getRemediation();
    }

    static Map<String, String> annotations(Node n) {
        return n.getMetadata().getAnnotations() == null ? Map.of() : n.getMetadata().getAnnotations();
    }

    static boolean cordoned(Node n) {
        return Boolean.TRUE.equals(n.getSpec().getUnschedulable());
    }

    static boolean cordonedByUs(Node n) {
        return cordoned(n) && NodePlan.OWNER.equals(annotations(n).get(NodePlan.ANNOTATION_CORDONED_BY));
    }

    static String conditionStatus(Node n) {
        NodeCondition c = NodePlan.condition(n);
        return c == null ? null : c.getStatus();
    }

    static boolean hasReady(Node n) {
        return n.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType())
                && "True".equals(c.getStatus()) && "KubeletReady".equals(c.getReason()));
    }

    static <T> T await(String what, Supplier<T> get, Predicate<T> ok) {
        long end = System.nanoTime() + WAIT.toNanos();
        T last = get.get();
        while (!ok.test(last)) {
            if (System.nanoTime() > end || !operator.process().isAlive()) {
                throw new AssertionError("waiting for " + what + (operator.process().isAlive() ? ""
                        : " (the operator exited " + operator.process().exitValue() + ")") + "; last seen: " + describe(last)
                        + "\n--- operator log (tail) ---\n" + tail(operator.logText(), 40));
            }
            sleep(Duration.ofMillis(200));
            last = get.get();
        }
        return last;
    }

    /** A Node as the assertions see it (the whole object is pages of managed fields). */
    static String describe(Object o) {
        if (!(o instanceof Node n)) {
            return String.valueOf(o);
        }
        return "Node " + n.getMetadata().getName() + " annotations=" + annotations(n) + " unschedulable="
                + n.getSpec().getUnschedulable() + " taints=" + n.getSpec().getTaints().stream()
                        .map(t -> t.getKey() + ":" + t.getEffect()).toList()
                + " conditions=" + n.getStatus().getConditions().stream()
                        .map(c -> c.getType() + "=" + c.getStatus() + "/" + c.getReason()).toList();
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** The process is alive and was never refused by the API server. */
    static void assertOperatorHealthy() {
        assertTrue(operator.process().isAlive(), "operator process alive");
        List<String> refused = KubeCluster.refusals(operator.logText());
        assertTrue(refused.isEmpty(), "the operator was refused by the API server:\n" + String.join("\n", refused));
    }

    // ---- the transitions ----

    @Test
    @Order(1)
    void leaderElectionTakesTheLeaseInThePodNamespace() {
        Lease lease = await("the operator's Lease", () -> admin.leases().inNamespace(NAMESPACE).withName(LEASE).get(),
                l -> l != null && IDENTITY.equals(l.getSpec().getHolderIdentity()));
        assertNotNull(lease.getSpec().getRenewTime());
        assertOperatorHealthy();
    }

    @Test
    @Order(2)
    void containerWarningOnlyAnnotates() {
        String n = PREFIX + "annotate";
        createNode(n, Map.of(), false);
        report(n, finding(Severity.Warning, Scope.Container, Cause.PipeFull));
        RemediationStatus r = await("remediation Annotate", () -> remediation(n),
                x -> x != null && x.getAction() == Action.Annotate);
        assertNull(r.getSuppressed());
        Node node = await("annotations", () -> node(n), x -> annotations(x).containsKey(NodePlan.ANNOTATION_HEALTH));
        assertEquals("Degraded", annotations(node).get(NodePlan.ANNOTATION_HEALTH));
        assertEquals("PipeFull", annotations(node).get(NodePlan.ANNOTATION_REASON));
        assertNull(NodePlan.condition(node), "Annotate writes no condition");
        assertFalse(NodePlan.hasTaint(node));
        assertFalse(cordoned(node));
        assertOperatorHealthy();
    }

    @Test
    @Order(3)
    void containerCriticalSetsTheNodeConditionAndKeepsTheKubeletsConditions() {
        String n = PREFIX + "condition";
        createNode(n, Map.of(), false);
        report(n, finding(Severity.Critical, Scope.Container, Cause.PidsLimit));
        Node node = await("ExecHealthy=False", () -> node(n), x -> "False".equals(conditionStatus(x)));
        NodeCondition c = NodePlan.condition(node);
        assertEquals("PidsLimit", c.getReason());
        assertEquals("stuck: PidsLimit", c.getMessage());
        assertTrue(hasReady(node), "the kubelet's Ready condition is kept: " + node.getStatus().getConditions());
        assertEquals("Unhealthy", annotations(node).get(NodePlan.ANNOTATION_HEALTH));
        assertFalse(NodePlan.hasTaint(node));
        assertFalse(cordoned(node));
        RemediationStatus r = await("remediation Condition", () -> remediation(n),
                x -> x != null && x.getAction() == Action.Condition);
        assertNull(r.getSuppressed());
        assertOperatorHealthy();
    }

    @Test
    @Order(4)
    void nodeWarningTaints() {
        String n = PREFIX + "taint";
        createNode(n, Map.of(), false);
        report(n, finding(Severity.Warning, Scope.Node, Cause.BlockIo));
        Node node = await("taint", () -> node(n), NodePlan::hasTaint);
        assertTrue(node.getSpec().getTaints().stream().anyMatch(t -> NodePlan.TAINT_KEY.equals(t.getKey())
                && "NoSchedule".equals(t.getEffect())), node.getSpec().getTaints().toString());
        assertFalse(cordoned(node));
        node = await("ExecHealthy=False", () -> node(n), x -> "False".equals(conditionStatus(x)));
        assertTrue(hasReady(node));
        await("remediation Taint", () -> remediation(n), x -> x != null && x.getAction() == Action.Taint);
        assertOperatorHealthy();
    }

    @Test
    @Order(5)
    void nodeCriticalCordonsThenHoldsForReleaseAfterThenReleases() {
        String n = PREFIX + "cordon";
        createNode(n, Map.of(), false);
        report(n, finding(Severity.Critical, Scope.Node, Cause.FuseRequest));
        Node node = await("cordon by execguard", () -> node(n), OperatorProcessKubeIT::cordonedByUs);
        assertTrue(NodePlan.hasTaint(node));
        assertEquals("FuseRequest", annotations(node).get(NodePlan.ANNOTATION_REASON));
        node = await("ExecHealthy=False", () -> node(n), x -> "False".equals(conditionStatus(x)));
        assertEquals("FuseRequest", NodePlan.condition(node).getReason());
        assertTrue(hasReady(node));
        RemediationStatus held = await("remediation Cordon", () -> remediation(n),
                x -> x != null && x.getAction() == Action.Cordon);
        assertNull(held.getSuppressed());
        assertNotNull(held.getSince());
        await("a Warning Event on the Node", () -> events(n), l -> l.stream()
                .anyMatch(e -> "ExecGuardCordon".equals(e.getReason()) && "Node".equals(e.getInvolvedObject().getKind())));

        Instant healthy = Instant.now();
        report(n);
        RemediationStatus recovering = await("Recovering", () -> remediation(n),
                x -> x != null && "Recovering".equals(x.getReason()));
        assertEquals(Action.Cordon, recovering.getAction(), "held while recovering");
        assertEquals(held.getSince(), recovering.getSince(), "the action keeps its start");
        assertTrue(cordonedByUs(node(n)), "still cordoned while recovering");
        assertTrue(NodePlan.hasTaint(node(n)));

        Node released = await("release", () -> node(n), x -> !cordoned(x) && !NodePlan.hasTaint(x)
                && "True".equals(conditionStatus(x)));
        Duration heldFor = Duration.between(healthy, Instant.now());
        assertTrue(heldFor.compareTo(RELEASE_AFTER) >= 0, "released after " + heldFor + ", before releaseAfter");
        assertFalse(annotations(released).containsKey(NodePlan.ANNOTATION_CORDONED_BY));
        assertFalse(annotations(released).containsKey(NodePlan.ANNOTATION_HEALTH));
        assertFalse(annotations(released).containsKey(NodePlan.ANNOTATION_REASON));
        assertTrue(hasReady(released));
        RemediationStatus none = await("remediation None", () -> remediation(n),
                x -> x != null && x.getAction() == Action.None);
        assertEquals("Healthy", none.getReason());
        sleep(Duration.ofSeconds(3)); // a few resyncs: no flapping back
        assertFalse(cordoned(node(n)), "not cordoned again");
        assertOperatorHealthy();
    }

    @Test
    @Order(6)
    void someoneElsesCordonIsNeverUndone() {
        String n = PREFIX + "others-cordon";
        createNode(n, Map.of(), true);
        report(n, finding(Severity.Critical, Scope.Node, Cause.NfsRequest));
        Node node = await("taint", () -> node(n), x -> NodePlan.hasTaint(x) && "False".equals(conditionStatus(x)));
        assertFalse(annotations(node).containsKey(NodePlan.ANNOTATION_CORDONED_BY), "not our cordon");
        await("remediation Cordon", () -> remediation(n), x -> x != null && x.getAction() == Action.Cordon);

        report(n);
        Node released = await("release", () -> node(n), x -> !NodePlan.hasTaint(x) && "True".equals(conditionStatus(x)));
        assertTrue(cordoned(released), "still cordoned by its owner");
        await("remediation None", () -> remediation(n), x -> x != null && x.getAction() == Action.None);
        sleep(Duration.ofSeconds(3));
        assertTrue(cordoned(node(n)), "still cordoned by its owner");
        assertOperatorHealthy();
    }

    @Test
    @Order(7)
    void staleReportIsUnknownAndReleasesNothing() {
        String n = PREFIX + "stale";
        createNode(n, Map.of(), false);
        report(n, finding(Severity.Critical, Scope.Node, Cause.CephRequest));
        await("cordon by execguard", () -> node(n), OperatorProcessKubeIT::cordonedByUs);
        await("remediation Cordon", () -> remediation(n), x -> x != null && x.getAction() == Action.Cordon);

        report(n, Instant.now().minus(Duration.ofHours(1))); // last heard of an hour ago, healthy then
        NodeExecHealth neh = await("phase Unknown", () -> admin.resources(NodeExecHealth.class).withName(n).get(),
                x -> x.getStatus().getPhase() == Phase.Unknown);
        assertEquals(Suppression.Stale, neh.getStatus().getRemediation().getSuppressed());
        assertEquals(Action.Cordon, neh.getStatus().getRemediation().getAction());
        assertTrue(neh.getStatus().getConditions().stream().allMatch(c -> "Unknown".equals(c.getStatus())),
                neh.getStatus().getConditions().toString());
        Node node = await("ExecHealthy=Unknown", () -> node(n), x -> "Unknown".equals(conditionStatus(x)));
        assertTrue(hasReady(node));
        sleep(RELEASE_AFTER.plusSeconds(3));
        node = node(n);
        assertTrue(cordonedByUs(node), "no release while the probe is silent");
        assertTrue(NodePlan.hasTaint(node));
        assertOperatorHealthy();
    }

    @Test
    @Order(8)
    void optOutLabelLeavesTheNodeAlone() {
        String n = PREFIX + "opt-out";
        createNode(n, Map.of(NodePlan.OPT_OUT_LABEL, "disabled"), false);
        report(n, finding(Severity.Critical, Scope.Node, Cause.FuseRequest));
        RemediationStatus r = await("optOut", () -> remediation(n),
                x -> x != null && x.getSuppressed() == Suppression.OptOut);
        assertEquals(Action.None, r.getAction(), "what execguard applies on an opted-out node: nothing");
        sleep(Duration.ofSeconds(3));
        assertUntouched(node(n));
        assertOperatorHealthy();
    }

    @Test
    @Order(9)
    void dryRunChangesNothingAndSaysWhatItWouldDo() {
        String n = PREFIX + "dry-run";
        createNode(n, Map.of("pool", "dry"), false);
        report(n, finding(Severity.Critical, Scope.Node, Cause.FuseRequest));
        RemediationStatus r = await("dryRun", () -> remediation(n),
                x -> x != null && x.getSuppressed() == Suppression.DryRun);
        assertEquals(Action.Cordon, r.getAction());
        var ev = await("dry-run Event", () -> events(n), l -> !l.isEmpty());
        assertTrue(ev.get(0).getMessage().startsWith("[dry run] would have cordoned"), ev.get(0).getMessage());
        sleep(Duration.ofSeconds(3));
        assertUntouched(node(n));
        assertOperatorHealthy();
    }

    @Test
    @Order(10)
    void operatorWasNeverRefusedAndIsStillLeading() {
        assertOperatorHealthy();
        Lease lease = admin.leases().inNamespace(NAMESPACE).withName(LEASE).get();
        assertEquals(IDENTITY, lease.getSpec().getHolderIdentity());
        String metrics = await("the operator's metrics", operator::metrics, m -> m.contains("execguard_reconciles_total"));
        LOG.info("operator metrics:\n{}", metrics.lines().filter(l -> l.startsWith("execguard_"))
                .reduce((a, b) -> a + "\n" + b).orElse(""));
        LOG.info("API server requests by verb, nodes: {}", cluster.requestsByVerb("nodes"));
    }

    static void assertUntouched(Node node) {
        assertFalse(annotations(node).containsKey(NodePlan.ANNOTATION_HEALTH), annotations(node).toString());
        assertFalse(annotations(node).containsKey(NodePlan.ANNOTATION_CORDONED_BY));
        assertFalse(NodePlan.hasTaint(node));
        assertFalse(cordoned(node));
        assertNull(NodePlan.condition(node));
        assertTrue(hasReady(node));
    }

    static List<io.fabric8.kubernetes.api.model.Event> events(String node) {
        return admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> node.equals(e.getInvolvedObject().getName())).toList();
    }
}
