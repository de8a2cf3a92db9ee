package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthSpec;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.RemediationStatus;
import io.execguard.api.Action;
import io.execguard.api.Phase;
import io.execguard.probe.KubeStatusWriter;
import io.execguard.probe.ProbeReport;

/**
 * The chart's ValidatingAdmissionPolicy (execguard-probe-own-node) on the real API server, with real
 * tokens of the probe's service account. To see the policy alone, the account gets an extra test
 * ClusterRole with every verb on nodeexechealths and their status, so each refusal below is the
 * policy's, not RBAC's (the chart's own RBAC is ProbeRbacKubeIT's subject).
 */
class AdmissionPolicyKubeIT {

    static final String PREFIX = "admission-policy-kube-it";
    static final String NODE_A = PREFIX + "-a";
    static final String NODE_B = PREFIX + "-b";
    static final String NS = "execguard";
    static final String PROBE_SA = "execguard-probe";
    static final String OPERATOR_SA = "execguard-operator";
    static final String POLICY = "execguard-probe-own-node";
    static final String DENIED = "ValidatingAdmissionPolicy '" + POLICY + "' with binding '" + POLICY
            + "' denied request: ";

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static Node nodeA;
    static Node nodeB;
    static Pod probePod;
    /** Token bound to the Pod on node A: carries authentication.kubernetes.io/node-name=A. */
    static KubernetesClient bound;
    static String boundToken;
    /** Same service account, plain TokenRequest: no node claim. */
    static KubernetesClient unbound;
    static KubernetesClient operator;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
        admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(PREFIX)
                .endMetadata().addNewRule().withApiGroups("execguard.io")
                .withResources("nodeexechealths", "nodeexechealths/status").withVerbs("*").endRule().build())
                .serverSideApply();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName(PREFIX).endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", PREFIX)
                .addNewSubject().withKind("ServiceAccount").withName(PROBE_SA).withNamespace(NS).endSubject().build())
                .serverSideApply();
        nodeA = cluster.createNode(admin, NODE_A, Map.of());
        nodeB = cluster.createNode(admin, NODE_B, Map.of());
        probePod = cluster.createPodOn(admin, NS, PREFIX + "-probe", PROBE_SA, NODE_A);
        boundToken = cluster.podBoundToken(admin, probePod);
        bound = cluster.withToken(boundToken);
        unbound = cluster.withToken(cluster.token(admin, NS, PROBE_SA));
        operator = cluster.withToken(cluster.token(admin, NS, OPERATOR_SA));
        // the policy and the extra role take effect asynchronously: wait until a dry-run create shows both
        KubeCluster.await(Duration.ofSeconds(60), "the admission policy refuses, RBAC allows", () -> {
            ApiCall c = ApiCall.of("dry-run create", () -> bound.resources(NodeExecHealth.class)
                    .resource(report(NODE_B + "-dry", NODE_B + "-dry")).dryRun().create());
            return c.code() == 403 && c.message().contains(DENIED);
        });
    }

    @AfterAll
    static void down() {
        try {
            for (KubernetesClient c : new KubernetesClient[] {bound, unbound, operator}) {
                if (c != null) {
                    c.close();
                }
            }
            admin.resources(NodeExecHealth.class).withName(NODE_A).delete();
            admin.resources(NodeExecHealth.class).withName(NODE_B).delete();
            if (probePod != null) {
                admin.resource(probePod).withGracePeriod(0).delete();
            }
            admin.rbac().clusterRoleBindings().withName(PREFIX).delete();
            admin.rbac().clusterRoles().withName(PREFIX).delete();
            admin.nodes().withName(NODE_A).delete();
            admin.nodes().withName(NODE_B).delete();
            cluster.deleteAll(admin, chart);
        } finally {
            admin.close();
        }
    }

    @Test
    void aPodBoundTokenWritesItsOwnNodesReport() {
        admin.resources(NodeExecHealth.class).withName(NODE_A).delete();
        KubeCluster.await(Duration.ofSeconds(30), "no report for A", () ->
                admin.resources(NodeExecHealth.class).withName(NODE_A).get() == null);

        ApiCall wrongSpec = ApiCall.of("create A with spec.nodeName B", () -> bound.resources(NodeExecHealth.class)
                .resource(report(NODE_A, NODE_B)).create());
        // the CRD's own rule (spec.nodeName == metadata.name) refuses it before admission runs, for every writer;
        // the policy's spec.nodeName check stays as defence in depth for a cluster with an older CRD
        assertEquals(422, wrongSpec.code(), wrongSpec.toString());
        assertTrue(wrongSpec.message().contains("spec.nodeName must equal metadata.name"), wrongSpec.message());

        ApiCall create = ApiCall.of("create A", () -> bound.resources(NodeExecHealth.class)
                .resource(NodeExecHealth.forNode(nodeA)).create());
        assertEquals(200, create.code(), create.toString());
        ApiCall update = ApiCall.of("update A", () -> {
            NodeExecHealth n = bound.resources(NodeExecHealth.class).withName(NODE_A).get();
            n.getMetadata().setLabels(Map.of(PREFIX, "updated"));
            bound.resources(NodeExecHealth.class).resource(n).update();
        });
        assertEquals(200, update.code(), update.toString());
        ApiCall patchStatus = ApiCall.of("patch A/status", () -> bound.resources(NodeExecHealth.class)
                .withName(NODE_A).editStatus(n -> withProbeStatus(n, "patched")));
        assertEquals(200, patchStatus.code(), patchStatus.toString());
        NodeExecHealth afterPatch = admin.resources(NodeExecHealth.class).withName(NODE_A).get();
        assertEquals("patched", afterPatch.getStatus().getProbeVersion());
        assertEquals("updated", afterPatch.getMetadata().getLabels().get(PREFIX));
        ApiCall updateStatus = ApiCall.of("update A/status", () -> bound.resources(NodeExecHealth.class)
                .resource(withProbeStatus(bound.resources(NodeExecHealth.class).withName(NODE_A).get(), "updated"))
                .updateStatus());
        assertEquals(200, updateStatus.code(), updateStatus.toString());
        assertEquals("updated", admin.resources(NodeExecHealth.class).withName(NODE_A).get().getStatus()
                .getProbeVersion());
    }

    @Test
    void aPodBoundTokenIsRefusedForAnotherNode() {
        String other = "the execguard probe on node " + NODE_A + " may only write NodeExecHealth/" + NODE_A
                + ", not " + NODE_B;
        admin.resources(NodeExecHealth.class).withName(NODE_B).delete();
        KubeCluster.await(Duration.ofSeconds(30), "no report for B", () ->
                admin.resources(NodeExecHealth.class).withName(NODE_B).get() == null);
        refusedWith(ApiCall.of("create B", () -> bound.resources(NodeExecHealth.class)
                .resource(NodeExecHealth.forNode(nodeB)).create()), DENIED + other);
        assertNull(admin.resources(NodeExecHealth.class).withName(NODE_B).get(), "B was not created");

        NodeExecHealth b = admin.resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(nodeB)).create();
        refusedWith(ApiCall.of("update B", () -> {
            NodeExecHealth n = bound.resources(NodeExecHealth.class).withName(NODE_B).get();
            n.getMetadata().setLabels(Map.of(PREFIX, "forged"));
            bound.resources(NodeExecHealth.class).resource(n).update();
        }), DENIED + other);
        refusedWith(ApiCall.of("patch B/status", () -> bound.resources(NodeExecHealth.class).withName(NODE_B)
                .editStatus(n -> withProbeStatus(n, "forged"))), DENIED + other);
        refusedWith(ApiCall.of("update B/status", () -> bound.resources(NodeExecHealth.class)
                .resource(withProbeStatus(bound.resources(NodeExecHealth.class).withName(NODE_B).get(), "forged"))
                .updateStatus()), DENIED + other);
        refusedWith(ApiCall.of("delete B", () -> bound.resources(NodeExecHealth.class).withName(NODE_B).delete()),
                DENIED + other);

        NodeExecHealth now = admin.resources(NodeExecHealth.class).withName(NODE_B).get();
        assertEquals(b.getMetadata().getUid(), now.getMetadata().getUid(), "B still there");
        assertEquals(b.getMetadata().getResourceVersion(), now.getMetadata().getResourceVersion(), "B unchanged");
    }

    @Test
    void aTokenWithoutTheNodeClaimIsRefusedEvenForA() {
        if (admin.resources(NodeExecHealth.class).withName(NODE_A).get() == null) {
            admin.resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(nodeA)).create();
        }
        String noClaim = DENIED + "the probe's service-account token carries no "
                + "authentication.kubernetes.io/node-name claim";
        refusedWith(ApiCall.of("plain token: patch A/status", () -> unbound.resources(NodeExecHealth.class)
                .withName(NODE_A).editStatus(n -> withProbeStatus(n, "unbound"))), noClaim);
        refusedWith(ApiCall.of("plain token: create " + NODE_A + "-x", () -> unbound.resources(NodeExecHealth.class)
                .resource(report(NODE_A + "-x", NODE_A + "-x")).create()), noClaim);
        refusedWith(ApiCall.of("plain token: delete A", () -> unbound.resources(NodeExecHealth.class)
                .withName(NODE_A).delete()), noClaim);
        assertTrue(admin.resources(NodeExecHealth.class).withName(NODE_A).get() != null, "A still there");
    }

    @Test
    void theOperatorIsNotAffected() {
        if (admin.resources(NodeExecHealth.class).withName(NODE_B).get() == null) {
            admin.resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(nodeB)).create();
        }
        // the operator's token has no node claim and B is no node of its: the policy must not match it
        ApiCall c = ApiCall.of("operator: patch B/status (remediation)", () -> operator.resources(NodeExecHealth.class)
                .withName(NODE_B).editStatus(n -> {
                    NodeExecHealthStatus s = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
                    s.setPhase(Phase.Unknown);
                    s.setRemediation(new RemediationStatus(Action.Cordon, Instant.now().toString(),
                            PREFIX + ": operator write", null));
                    n.setStatus(s);
                    return n;
                }));
        assertEquals(200, c.code(), c.toString());
        NodeExecHealth b = admin.resources(NodeExecHealth.class).withName(NODE_B).get();
        assertEquals(Phase.Unknown, b.getStatus().getPhase());
        assertEquals(PREFIX + ": operator write", b.getStatus().getRemediation().getReason());
    }

    /**
     * status.remediation is the operator's: the probe's pod-bound token can neither set, change nor remove it, on
     * its own report; its ordinary status writes (the real {@link KubeStatusWriter}: a JSON patch of the probe's fields; a status PUT carrying the
     * operator's value back) pass, and the operator's value survives them.
     */
    @Test
    void theProbeCannotWriteTheOperatorsRemediation() {
        String notYours = DENIED + "the execguard probe on node " + NODE_A
                + " may not set or change status.remediation of " + NODE_A + ": it is the operator's decision";
        admin.resources(NodeExecHealth.class).withName(NODE_A).delete();
        KubeCluster.await(Duration.ofSeconds(30), "no report for A", () ->
                admin.resources(NodeExecHealth.class).withName(NODE_A).get() == null);

        // create: the API server drops status on create (status subresource), so a forged decision never lands
        NodeExecHealth forgedCreate = NodeExecHealth.forNode(nodeA);
        forgedCreate.setStatus(withRemediation(new NodeExecHealthStatus(), Action.Cordon, PREFIX + ": forged"));
        ApiCall create = ApiCall.of("probe: create A carrying remediation Cordon", () -> bound
                .resources(NodeExecHealth.class).resource(forgedCreate).create());
        assertTrue(create.code() == 200 || create.code() == 403, create.toString());
        NodeExecHealth created = admin.resources(NodeExecHealth.class).withName(NODE_A).get();
        if (created == null) {
            created = admin.resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(nodeA)).create();
        }
        assertNull(created.getStatus() == null ? null : created.getStatus().getRemediation(), "no remediation on A");

        // no remediation yet: the probe may not set one
        refusedWith(ApiCall.of("probe: patch A/status remediation=Cordon (none before)", () -> bound
                .resources(NodeExecHealth.class).withName(NODE_A)
                .editStatus(n -> withRemediation(withProbeStatus(n, "forge"), Action.Cordon, PREFIX + ": forged"))),
                notYours);

        // the operator decides
        RemediationStatus decided = new RemediationStatus(Action.Annotate, Instant.now().toString(),
                PREFIX + ": operator decided", null);
        ApiCall operatorWrite = ApiCall.of("operator: patch A/status remediation=Annotate", () -> operator
                .resources(NodeExecHealth.class).withName(NODE_A)
                .editStatus(n -> withRemediation(n, decided.getAction(), decided.getReason(), decided.getSince())));
        assertEquals(200, operatorWrite.code(), operatorWrite.toString());

        // the probe's ordinary writes keep it: the real writer (JSON patch of its own fields) and a status PUT
        new KubeStatusWriter(cluster.probeApi(boundToken), NODE_A, "admission-it").write(new ProbeReport("Healthy", List.of(), false,
                new ProbeReport.Summary(0, 0, Map.of(), null), null, 7, 42, List.of(), 1), Instant.now());
        assertEquals("admission-it", status().getProbeVersion());
        ApiCall put = ApiCall.of("probe: update A/status carrying remediation back", () -> bound
                .resources(NodeExecHealth.class)
                .resource(withProbeStatus(bound.resources(NodeExecHealth.class).withName(NODE_A).get(), "put"))
                .updateStatus());
        assertEquals(200, put.code(), put.toString());
        assertEquals("put", status().getProbeVersion());
        assertEquals(decided.getReason(), status().getRemediation().getReason(), "the operator's decision survives");
        assertEquals(Action.Annotate, status().getRemediation().getAction());

        // but it may not change or remove it
        refusedWith(ApiCall.of("probe: patch A/status remediation Annotate->Cordon", () -> bound
                .resources(NodeExecHealth.class).withName(NODE_A)
                .editStatus(n -> withRemediation(n, Action.Cordon, decided.getReason(), decided.getSince()))),
                notYours);
        refusedWith(ApiCall.of("probe: patch A/status remediation.reason", () -> bound
                .resources(NodeExecHealth.class).withName(NODE_A)
                .editStatus(n -> withRemediation(n, Action.Annotate, PREFIX + ": forged", decided.getSince()))),
                notYours);
        refusedWith(ApiCall.of("probe: patch A/status without remediation", () -> bound
                .resources(NodeExecHealth.class).withName(NODE_A).editStatus(n -> {
                    n.getStatus().setRemediation(null);
                    return n;
                })), notYours);
        refusedWith(ApiCall.of("probe: update A/status remediation=Cordon", () -> {
            NodeExecHealth n = bound.resources(NodeExecHealth.class).withName(NODE_A).get();
            bound.resources(NodeExecHealth.class).resource(withRemediation(n, Action.Cordon, PREFIX + ": forged"))
                    .updateStatus();
        }), notYours);
        assertEquals(decided.getReason(), status().getRemediation().getReason(), "unchanged after the refusals");
        assertEquals(Action.Annotate, status().getRemediation().getAction());
    }

    private static NodeExecHealthStatus status() {
        return admin.resources(NodeExecHealth.class).withName(NODE_A).get().getStatus();
    }

    private static NodeExecHealth withRemediation(NodeExecHealth n, Action action, String reason) {
        return withRemediation(n, action, reason, Instant.now().toString());
    }

    private static NodeExecHealth withRemediation(NodeExecHealth n, Action action, String reason, String since) {
        NodeExecHealthStatus s = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
        n.setStatus(withRemediation(s, action, reason));
        s.getRemediation().setSince(since);
        return n;
    }

    private static NodeExecHealthStatus withRemediation(NodeExecHealthStatus s, Action action, String reason) {
        s.setRemediation(new RemediationStatus(action, Instant.now().toString(), reason, null));
        return s;
    }

    private static void refusedWith(ApiCall c, String message) {
        assertEquals(403, c.code(), c.toString());
        assertTrue(c.message().contains(message), "wanted '" + message + "' in: " + c.message());
    }

    private static NodeExecHealth withProbeStatus(NodeExecHealth n, String probeVersion) {
        NodeExecHealthStatus s = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
        s.setPhase(Phase.Healthy);
        s.setProbeVersion(probeVersion);
        s.setLastProbeTime(Instant.now().toString());
        n.setStatus(s);
        return n;
    }

    private static NodeExecHealth report(String name, String specNodeName) {
        NodeExecHealth n = new NodeExecHealth();
        n.getMetadata().setName(name);
        n.setSpec(new NodeExecHealthSpec(specNodeName));
        return n;
    }
}
