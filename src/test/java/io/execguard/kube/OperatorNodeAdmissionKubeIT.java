package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The chart's ValidatingAdmissionPolicy execguard-operator-node-fields on the real API server, with the operator
 * service account's real token and the chart's real RBAC: each change execguard makes to a Node (its annotations,
 * its taint, the cordon, the ExecHealthy condition) succeeds, and every other change to a Node is refused with
 * the policy's message. Spec writes are PUTs (as the operator makes them) unless the row says patch; status writes
 * are JSON patches of nodes/status (the only status verb the chart grants).
 */
class OperatorNodeAdmissionKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorNodeAdmissionKubeIT.class);

    static final String PREFIX = "operator-node-admission-kube-it";
    static final String NODE = PREFIX + "-node";
    static final String NS = "execguard";
    static final String OPERATOR_SA = "execguard-operator";
    static final String POLICY = "execguard-operator-node-fields";
    static final String DENIED = "ValidatingAdmissionPolicy '" + POLICY + "' with binding '" + POLICY
            + "' denied request: ";
    static final String TAINT = "execguard.io/exec-unhealthy";
    static final String OTHER_ANNOTATION = "example.com/owner";
    static final String OTHER_TAINT = "example.com/dedicated";

    static final String LABELS = "the execguard operator may not change a Node's labels";
    static final String ANNOTATIONS = "the execguard operator may change only annotations under execguard.io/ on a Node";
    static final String META = "the execguard operator may not change a Node's ownerReferences or finalizers";
    static final String TAINTS = "the execguard operator may change only its own taint " + TAINT + " on a Node";
    static final String EFFECT = "the execguard operator may set its taint " + TAINT + " only with effect NoSchedule";
    static final String SPEC = "the execguard operator may change only spec.unschedulable and its own taint in a "
            + "Node's spec";
    static final String CONDITIONS = "the execguard operator may change only the ExecHealthy condition of a Node";
    static final String STATUS = "the execguard operator may change only the ExecHealthy condition in a Node's status";

    /** Where a row writes. */
    enum Target { NODE_PUT, NODE_PATCH, STATUS_PATCH }

    /**
     * One row: a change made as the operator, the expected outcome (for refusals, the policy's message), and
     * how to see on the Node (read back as admin) whether the change landed.
     */
    record Case(String what, Target target, ApiCall.Expect expect, String message, UnaryOperator<Node> change,
                Predicate<Node> landed) {
        static Case allowed(String what, Target target, UnaryOperator<Node> change, Predicate<Node> landed) {
            return new Case(what, target, ApiCall.Expect.ALLOWED, null, change, landed);
        }

        static Case refused(String what, Target target, String message, UnaryOperator<Node> change,
                            Predicate<Node> landed) {
            return new Case(what, target, ApiCall.Expect.REFUSED, message, change, landed);
        }
    }

    /** What happened to a row. */
    record Outcome(Case row, ApiCall call, boolean landed) {
        boolean asExpected() {
            boolean allowed = row.expect() == ApiCall.Expect.ALLOWED;
            return new ApiCall.Row(row.expect(), call).asExpected() && landed == allowed
                    && (allowed || call.message().contains(DENIED + row.message()));
        }
    }

    static KubeCluster cluster;
    static KubernetesClient admin;
    static KubernetesClient operator;
    static List<HasMetadata> chart = List.of();

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        admin.nodes().withName(NODE).delete();
        KubeCluster.await(Duration.ofSeconds(30), "no leftover node", () -> admin.nodes().withName(NODE).get() == null);
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
        Node n = admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE)
                .withLabels(Map.of(PREFIX, "original")).withAnnotations(Map.of(OTHER_ANNOTATION, "team-a"))
                .endMetadata().withNewSpec().addNewTaint().withKey(OTHER_TAINT).withValue("db")
                .withEffect("NoSchedule").endTaint().endSpec().build()).create();
        // a patch without resourceVersion: the controller-manager (TTL annotation) may write the new Node meanwhile
        admin.nodes().withName(n.getMetadata().getName()).editStatus(x -> {
            x.setStatus(new io.fabric8.kubernetes.api.model.NodeStatusBuilder()
                    .withConditions(condition("Ready", "True", "KubeletReady"))
                    .withCapacity(Map.of("cpu", new Quantity("4"), "memory", new Quantity("8Gi")))
                    .withAllocatable(Map.of("cpu", new Quantity("4"), "memory", new Quantity("8Gi")))
                    .withAddresses(new NodeAddress("10.11.12.13", "InternalIP")).build());
            return x;
        });
        operator = cluster.withToken(cluster.token(admin, NS, OPERATOR_SA));
        // the policy takes effect asynchronously: wait until the operator's label change is refused by it
        KubeCluster.await(Duration.ofSeconds(60), "the node policy refuses a label change", () -> {
            ApiCall c = write(Target.NODE_PATCH, x -> label(x, "probe-" + System.nanoTime()));
            return c.code() == 403 && c.message().contains(DENIED + LABELS);
        });
    }

    @AfterAll
    static void down() {
        try {
            if (operator != null) {
                operator.close();
            }
            admin.nodes().withName(NODE).delete();
            cluster.deleteAll(admin, chart.stream().filter(o -> !"Namespace".equals(o.getKind())).toList());
        } finally {
            admin.close();
        }
    }

    static List<Case> table() {
        return List.of(
                // what execguard writes (NodePlan): allowed, and it lands
                Case.allowed("annotate execguard.io/exec-health + reason", Target.NODE_PUT,
                        n -> annotate(annotate(n, "execguard.io/exec-health", "Unhealthy"),
                                "execguard.io/exec-health-reason", "StuckExec"),
                        n -> "Unhealthy".equals(annotation(n, "execguard.io/exec-health"))),
                Case.allowed("change execguard.io/exec-health", Target.NODE_PATCH,
                        n -> annotate(n, "execguard.io/exec-health", "Degraded"),
                        n -> "Degraded".equals(annotation(n, "execguard.io/exec-health"))),
                Case.allowed("taint " + TAINT + ":NoSchedule", Target.NODE_PUT,
                        n -> addTaint(n, new Taint("NoSchedule", TAINT, null, "true")), n -> hasTaint(n, TAINT)),
                Case.allowed("cordon + execguard.io/cordoned-by", Target.NODE_PUT,
                        n -> {
                            n.getSpec().setUnschedulable(true);
                            return annotate(n, "execguard.io/cordoned-by", "execguard");
                        }, n -> Boolean.TRUE.equals(n.getSpec().getUnschedulable())),
                Case.allowed("add condition ExecHealthy=False", Target.STATUS_PATCH,
                        n -> setCondition(n, condition("ExecHealthy", "False", "StuckExec")),
                        n -> "False".equals(conditionStatus(n, "ExecHealthy"))),
                Case.allowed("change condition ExecHealthy to True", Target.STATUS_PATCH,
                        n -> setCondition(n, condition("ExecHealthy", "True", "ExecHealthy")),
                        n -> "True".equals(conditionStatus(n, "ExecHealthy"))),
                Case.allowed("uncordon (unschedulable absent)", Target.NODE_PUT,
                        n -> {
                            n.getSpec().setUnschedulable(null);
                            return removeAnnotation(n, "execguard.io/cordoned-by");
                        }, n -> n.getSpec().getUnschedulable() == null || !n.getSpec().getUnschedulable()),
                Case.allowed("spec.unschedulable=false (absent before)", Target.NODE_PATCH,
                        n -> {
                            n.getSpec().setUnschedulable(false);
                            return n;
                        }, n -> !Boolean.TRUE.equals(n.getSpec().getUnschedulable())),
                Case.allowed("remove taint " + TAINT, Target.NODE_PUT,
                        n -> removeTaint(n, TAINT), n -> !hasTaint(n, TAINT)),
                Case.allowed("remove execguard.io/ annotations", Target.NODE_PUT,
                        n -> removeAnnotation(removeAnnotation(n, "execguard.io/exec-health"),
                                "execguard.io/exec-health-reason"),
                        n -> annotation(n, "execguard.io/exec-health") == null),
                // everything else: refused by the policy, and nothing lands
                Case.refused("add a label", Target.NODE_PATCH, LABELS,
                        n -> label(n, "added"), n -> "added".equals(labels(n).get(PREFIX + "-new"))),
                Case.refused("change a label", Target.NODE_PUT, LABELS, n -> {
                    n.getMetadata().getLabels().put(PREFIX, "changed");
                    return n;
                }, n -> "changed".equals(labels(n).get(PREFIX))),
                Case.refused("remove a label", Target.NODE_PUT, LABELS, n -> {
                    n.getMetadata().getLabels().remove(PREFIX);
                    return n;
                }, n -> !labels(n).containsKey(PREFIX)),
                Case.refused("add the opt-out label execguard.io/remediation", Target.NODE_PATCH, LABELS, n -> {
                    n.getMetadata().getLabels().put("execguard.io/remediation", "disabled");
                    return n;
                }, n -> labels(n).containsKey("execguard.io/remediation")),
                Case.refused("add another annotation", Target.NODE_PATCH, ANNOTATIONS,
                        n -> annotate(n, "example.com/new", "x"), n -> annotation(n, "example.com/new") != null),
                Case.refused("change another annotation", Target.NODE_PUT, ANNOTATIONS,
                        n -> annotate(n, OTHER_ANNOTATION, "team-b"), n -> "team-b".equals(annotation(n, OTHER_ANNOTATION))),
                Case.refused("remove another annotation", Target.NODE_PUT, ANNOTATIONS,
                        n -> removeAnnotation(n, OTHER_ANNOTATION), n -> annotation(n, OTHER_ANNOTATION) == null),
                Case.refused("add a finalizer", Target.NODE_PUT, META, n -> {
                    n.getMetadata().setFinalizers(List.of("example.com/" + PREFIX));
                    return n;
                }, n -> n.getMetadata().getFinalizers() != null && !n.getMetadata().getFinalizers().isEmpty()),
                Case.refused("add another taint", Target.NODE_PUT, TAINTS,
                        n -> addTaint(n, new Taint("NoSchedule", "example.com/new", null, "x")),
                        n -> hasTaint(n, "example.com/new")),
                Case.refused("remove another taint", Target.NODE_PUT, TAINTS,
                        n -> removeTaint(n, OTHER_TAINT), n -> !hasTaint(n, OTHER_TAINT)),
                Case.refused("change another taint's value", Target.NODE_PATCH, TAINTS, n -> {
                    n.getSpec().getTaints().stream().filter(t -> OTHER_TAINT.equals(t.getKey()))
                            .forEach(t -> t.setValue("web"));
                    return n;
                }, n -> n.getSpec().getTaints().stream().anyMatch(t -> "web".equals(t.getValue()))),
                Case.refused("taint " + TAINT + ":NoExecute", Target.NODE_PUT, EFFECT,
                        n -> addTaint(n, new Taint("NoExecute", TAINT, null, "true")), n -> hasTaint(n, TAINT)),
                Case.refused("set spec.providerID", Target.NODE_PATCH, SPEC, n -> {
                    n.getSpec().setProviderID("example://" + PREFIX);
                    return n;
                }, n -> n.getSpec().getProviderID() != null),
                Case.refused("set spec.podCIDR(s)", Target.NODE_PUT, SPEC, n -> {
                    n.getSpec().setPodCIDR("10.244.7.0/24");
                    n.getSpec().setPodCIDRs(List.of("10.244.7.0/24"));
                    return n;
                }, n -> n.getSpec().getPodCIDR() != null),
                Case.refused("change condition Ready", Target.STATUS_PATCH, CONDITIONS,
                        n -> setCondition(n, condition("Ready", "False", "Forged")),
                        n -> "False".equals(conditionStatus(n, "Ready"))),
                Case.refused("add condition MemoryPressure", Target.STATUS_PATCH, CONDITIONS,
                        n -> setCondition(n, condition("MemoryPressure", "True", "Forged")),
                        n -> conditionStatus(n, "MemoryPressure") != null),
                Case.refused("replace the conditions by ExecHealthy alone", Target.STATUS_PATCH, CONDITIONS, n -> {
                    n.getStatus().setConditions(new ArrayList<>(List.of(condition("ExecHealthy", "False", "X"))));
                    return n;
                }, n -> conditionStatus(n, "Ready") == null),
                Case.refused("change status.capacity", Target.STATUS_PATCH, STATUS, n -> {
                    n.getStatus().getCapacity().put("cpu", new Quantity("64"));
                    return n;
                }, n -> "64".equals(n.getStatus().getCapacity().get("cpu").getAmount())),
                Case.refused("change status.allocatable", Target.STATUS_PATCH, STATUS, n -> {
                    n.getStatus().getAllocatable().remove("memory");
                    return n;
                }, n -> !n.getStatus().getAllocatable().containsKey("memory")),
                Case.refused("change status.addresses", Target.STATUS_PATCH, STATUS, n -> {
                    n.getStatus().setAddresses(List.of(new NodeAddress("10.99.99.99", "InternalIP")));
                    return n;
                }, n -> n.getStatus().getAddresses().stream().anyMatch(a -> "10.99.99.99".equals(a.getAddress()))),
                Case.refused("set status.nodeInfo.kubeletVersion", Target.STATUS_PATCH, STATUS, n -> {
                    n.getStatus().setNodeInfo(new io.fabric8.kubernetes.api.model.NodeSystemInfoBuilder()
                            .withKubeletVersion("v0.0.0-forged").build());
                    return n;
                }, n -> n.getStatus().getNodeInfo() != null
                        && "v0.0.0-forged".equals(n.getStatus().getNodeInfo().getKubeletVersion())));
    }

    @Test
    void theOperatorMayChangeOnlyWhatExecguardOwnsOnANode() {
        List<Outcome> outcomes = new ArrayList<>();
        for (Case row : table()) {
            ApiCall call = write(row.target(), row.change());
            outcomes.add(new Outcome(row, call, row.landed().test(admin.nodes().withName(NODE).get())));
        }
        List<ApiCall.Row> rows = outcomes.stream().map(o -> new ApiCall.Row(o.row().expect(),
                new ApiCall(o.row().target() + " " + o.row().what() + (o.landed() ? " [landed]" : ""),
                        o.call().code(), o.call().message().replaceFirst("^.*denied request: ", "policy: ")))).toList();
        String table = ApiCall.table("Operator's writes to Node " + NODE + " through " + POLICY, rows);
        LOG.info("\n{}", table);
        System.out.println(table);
        List<String> wrong = outcomes.stream().filter(o -> !o.asExpected())
                .map(o -> o.row().what() + " -> " + o.call() + " landed=" + o.landed()).toList();
        assertTrue(wrong.isEmpty(), "not as expected:\n" + String.join("\n", wrong) + "\n" + table);
        Node after = admin.nodes().withName(NODE).get();
        assertEquals("original", labels(after).get(PREFIX));
        assertEquals("team-a", annotation(after, OTHER_ANNOTATION));
        assertEquals("True", conditionStatus(after, "Ready"));
    }

    /**
     * CEL cannot iterate a typed object's fields, so the policy names every NodeSpec and NodeStatus field it keeps.
     * The API server's own OpenAPI schema is the list to cover: a Kubernetes version with a new Node field fails
     * here until the policy covers it. And the server's type check of the policy finds nothing to warn about.
     */
    @Test
    void thePolicyCoversEveryNodeFieldOfThisServerAndTypeChecks() throws Exception {
        String raw = admin.raw("/openapi/v3/api/v1");
        JsonNode schemas = new ObjectMapper().readTree(raw).path("components").path("schemas");
        ValidatingAdmissionPolicy vap = admin.admissionRegistration().v1().validatingAdmissionPolicies()
                .withName(POLICY).get();
        String expressions = vap.getSpec().getValidations().stream().map(v -> v.getExpression())
                .reduce("", (a, b) -> a + "\n" + b);
        Set<String> uncovered = new TreeSet<>();
        for (String f : fields(schemas, "io.k8s.api.core.v1.NodeSpec")) {
            if (!Set.of("unschedulable", "taints").contains(f) && !expressions.contains("spec.?" + f + " ")
                    && !expressions.contains("spec).?" + f + " ")) {
                uncovered.add("spec." + f);
            }
        }
        for (String f : fields(schemas, "io.k8s.api.core.v1.NodeStatus")) {
            if (!expressions.contains("status.?" + f + " ") && !expressions.contains("status).?" + f + " ")
                    && !expressions.contains("status.?" + f + ".")) {
                uncovered.add("status." + f);
            }
        }
        assertTrue(uncovered.isEmpty(), "Node fields of this API server the policy does not keep: " + uncovered);
        KubeCluster.await(Duration.ofSeconds(30), "the policy's type check ran", () -> {
            ValidatingAdmissionPolicy p = admin.admissionRegistration().v1().validatingAdmissionPolicies()
                    .withName(POLICY).get();
            return p.getStatus() != null && p.getStatus().getTypeChecking() != null
                    && p.getMetadata().getGeneration().equals(p.getStatus().getObservedGeneration());
        });
        var warnings = admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(POLICY).get()
                .getStatus().getTypeChecking().getExpressionWarnings();
        assertTrue(warnings == null || warnings.isEmpty(), "type-check warnings: " + warnings);
    }

    private static List<String> fields(JsonNode schemas, String name) {
        JsonNode props = schemas.path(name).path("properties");
        assertTrue(props.size() > 3, "schema " + name + " has properties");
        List<String> out = new ArrayList<>();
        props.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Read as the operator, change, write; re-read and retry if another writer got in between (409). */
    static ApiCall write(Target target, UnaryOperator<Node> change) {
        ApiCall last = null;
        for (int attempt = 1; attempt <= 5; attempt++) {
            last = ApiCall.of(target.name(), () -> {
                switch (target) {
                    // the operator's RBAC grants patch, not update (#11): the whole-object change goes as a JSON
                    // patch against the version read, which admission sees as the same UPDATE
                    case NODE_PUT -> operator.nodes().resource(operator.nodes().withName(NODE).get()).edit(change);
                    case NODE_PATCH -> operator.nodes().withName(NODE).edit(change);
                    case STATUS_PATCH -> operator.nodes().withName(NODE).editStatus(change);
                }
            });
            if (last.code() != 409) {
                return last;
            }
        }
        return last;
    }

    private static NodeCondition condition(String type, String status, String reason) {
        return new NodeConditionBuilder().withType(type).withStatus(status).withReason(reason)
                .withMessage(PREFIX).withLastTransitionTime("2026-01-01T00:00:00Z")
                .withLastHeartbeatTime("2026-01-01T00:00:00Z").build();
    }

    private static Node setCondition(Node n, NodeCondition c) {
        List<NodeCondition> conds = n.getStatus().getConditions() == null ? new ArrayList<>()
                : new ArrayList<>(n.getStatus().getConditions());
        int at = -1;
        for (int i = 0; i < conds.size(); i++) {
            if (c.getType().equals(conds.get(i).getType())) {
                at = i;
            }
        }
        if (at < 0) {
            conds.add(c);
        } else {
            conds.set(at, c);
        }
        n.getStatus().setConditions(conds);
        return n;
    }

    private static String conditionStatus(Node n, String type) {
        return n.getStatus() == null || n.getStatus().getConditions() == null ? null
                : n.getStatus().getConditions().stream().filter(c -> type.equals(c.getType()))
                    .map(NodeCondition::getStatus).findFirst().orElse(null);
    }

    private static Node label(Node n, String value) {
        n.getMetadata().getLabels().put(PREFIX + "-new", value);
        return n;
    }

    private static Map<String, String> labels(Node n) {
        return n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
    }

    private static Node annotate(Node n, String key, String value) {
        n.getMetadata().getAnnotations().put(key, value);
        return n;
    }

    private static Node removeAnnotation(Node n, String key) {
        n.getMetadata().getAnnotations().remove(key);
        return n;
    }

    private static String annotation(Node n, String key) {
        return n.getMetadata().getAnnotations() == null ? null : n.getMetadata().getAnnotations().get(key);
    }

    private static Node addTaint(Node n, Taint t) {
        List<Taint> taints = n.getSpec().getTaints() == null ? new ArrayList<>() : new ArrayList<>(n.getSpec().getTaints());
        taints.add(t);
        n.getSpec().setTaints(taints);
        return n;
    }

    private static Node removeTaint(Node n, String key) {
        List<Taint> taints = n.getSpec().getTaints() == null ? new ArrayList<>() : new ArrayList<>(n.getSpec().getTaints());
        taints.removeIf(t -> key.equals(t.getKey()));
        n.getSpec().setTaints(taints);
        return n;
    }

    private static boolean hasTaint(Node n, String key) {
        return n.getSpec().getTaints() != null && n.getSpec().getTaints().stream().anyMatch(t -> key.equals(t.getKey()));
    }
}
