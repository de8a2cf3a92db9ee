package io.execguard.kube;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.NodeStatus;
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
import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/**
 * The objects one HA test owns on the shared cluster, all named with its prefix and labelled with its suite:
 * Nodes (a "kubelet" Ready condition, no kubelet), the reports the test writes as the probe would, its policy,
 * its Lease; the operator processes it starts (through a {@link FaultProxy} each) and a clean-up that also
 * removes what a failed earlier run left.
 */
public final class HaFleet {

    public static final String SUITE_LABEL = "execguard.test/suite";
    public static final String NAMESPACE = "execguard";
    public static final String OPERATOR_SA = "execguard-operator";
    /** Every report the tests write fails with this finding: node scope, Critical, the policy says Cordon. */
    public static final ReportedFinding CRITICAL = TestFindings.finding(Severity.Critical, Scope.Node,
            Cause.FuseRequest, null);
    private static final Pattern OPERATOR_STARTED = Pattern.compile("operator started \\(leader election");

    private final KubeCluster cluster;
    private final KubernetesClient admin;
    private final String prefix;

    public HaFleet(KubeCluster cluster, KubernetesClient admin, String prefix) {
        this.cluster = cluster;
        this.admin = admin;
        this.prefix = prefix;
    }

    public String prefix() {
        return prefix;
    }

    public String suite() {
        return prefix + "suite";
    }

    /** The operator takes the first selecting policy by name: "a-" keeps ours ahead of other tests' leftovers. */
    public String policyName() {
        return "a-" + prefix + "policy";
    }

    public String lease() {
        return prefix + "lease";
    }

    /** The policy over this suite's Nodes: node Critical → Cordon, not dry run, a count cap. */
    public ExecHealthPolicy createPolicy(int maxUnhealthy, Duration releaseAfter) {
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        spec.setNodeSelector(Map.of(SUITE_LABEL, suite()));
        spec.setActions(new ActionLadder(Action.Cordon, Action.Taint, Action.Condition, Action.Annotate));
        spec.setReleaseAfter(releaseAfter.toSeconds() + "s");
        spec.setMaxUnhealthy(new IntOrString(maxUnhealthy));
        spec.setDryRun(false);
        // most of the suite's few Nodes fail on purpose: the storm guard is not under test here, the cap is
        io.execguard.api.StormGuard calm = new io.execguard.api.StormGuard();
        calm.setMaxFailing(new IntOrString("100%"));
        calm.setNewHoldsPerMinute(100);
        spec.setStormGuard(calm);
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(policyName());
        p.setSpec(spec);
        return admin.resource(p).create();
    }

    /** A Node of the suite whose "kubelet" reports Ready. */
    public void createNode(String name) {
        createNode(name, Map.of());
    }

    /** A Node of the suite, with more labels (a pool a policy selects), whose "kubelet" reports Ready. */
    public void createNode(String name, Map<String, String> extraLabels) {
        Map<String, String> labels = new HashMap<>(extraLabels);
        labels.put(SUITE_LABEL, suite());
        admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .build()).create();
        retryOnConflict(() -> admin.nodes().withName(name).editStatus(n -> {
            if (n.getStatus() == null) {
                n.setStatus(new NodeStatus());
            }
            n.getStatus().setConditions(List.of(new NodeConditionBuilder().withType("Ready").withStatus("True")
                    .withReason("KubeletReady").withMessage("kubelet is posting ready status")
                    .withLastHeartbeatTime(Instant.now().toString()).withLastTransitionTime(Instant.now().toString())
                    .build()));
            return n;
        }));
    }

    /** What the probe writes: the report (created once), its status through the status subresource. */
    public void report(String node, ReportedFinding... findings) {
        var res = admin.resources(NodeExecHealth.class);
        if (res.withName(node).get() == null) {
            res.resource(NodeExecHealth.forNode(admin.nodes().withName(node).get())).create();
        }
        retryOnConflict(() -> res.withName(node).editStatus(n -> {
            NodeExecHealthStatus s = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
            s.setPhase(findings.length == 0 ? Phase.Healthy : Phase.Unhealthy);
            s.setFindings(List.of(findings));
            s.setLastProbeTime(Instant.now().toString());
            n.setStatus(s);
            return n;
        }));
    }

    private static void retryOnConflict(Runnable r) {
        for (int attempt = 1; ; attempt++) {
            try {
                r.run();
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    public Node node(String name) {
        return admin.nodes().withName(name).get();
    }

    public RemediationStatus remediation(String name) {
        NodeExecHealth n = admin.resources(NodeExecHealth.class).withName(name).get();
        return n == null || n.getStatus() == null ? null : n.getStatus().getRemediation();
    }

    /** Execguard's ExecHealthy condition on the Node is False. */
    public boolean conditionFalse(Node n) {
        var c = NodePlan.condition(n);
        return c != null && "False".equals(c.getStatus());
    }

    /** Events on the Node that say execguard cordoned it, summed over their count. */
    public int cordonEvents(String node) {
        return admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getInvolvedObject() != null && node.equals(e.getInvolvedObject().getName())
                        && "Node".equals(e.getInvolvedObject().getKind()))
                .filter(e -> e.getMessage() != null && !e.getMessage().startsWith("[dry run]")
                        && List.of(e.getMessage().split("[,(]\\s*")).stream().map(String::trim)
                                .anyMatch("cordoned"::equals))
                .mapToInt(e -> e.getCount() == null ? 1 : e.getCount()).sum();
    }

    /** The suite's Nodes execguard holds now, read from the server. */
    public Set<String> heldOnServer() {
        return admin.nodes().withLabel(SUITE_LABEL, suite()).list().getItems().stream().filter(HoldSampler::isHeld)
                .map(n -> n.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * Exactly {@code min(cap, failing)} Nodes held, all among the failing ones, each with its whole action (condition
     * False, its report's remediation holding it); no failing Node that is not held has a report saying it is.
     */
    public boolean settled(int cap, Set<String> failing) {
        Set<String> held = new TreeSet<>();
        for (Node n : admin.nodes().withLabel(SUITE_LABEL, suite()).list().getItems()) {
            if (HoldSampler.isHeld(n)) {
                held.add(n.getMetadata().getName());
                if (!failing.contains(n.getMetadata().getName()) || !conditionFalse(n)) {
                    return false;
                }
            }
        }
        if (held.size() != Math.min(cap, failing.size())) {
            return false;
        }
        for (String f : failing) {
            RemediationStatus r = remediation(f);
            boolean says = r != null && r.getAction() != null && r.getAction().holdsNode();
            if (says != held.contains(f)) {
                return false;
            }
        }
        return true;
    }

    /** Each Node of the suite: held or not, and what its report's remediation says. */
    public String summary() {
        Map<String, String> out = new TreeMap<>();
        for (Node n : admin.nodes().withLabel(SUITE_LABEL, suite()).list().getItems()) {
            RemediationStatus r = remediation(n.getMetadata().getName());
            out.put(n.getMetadata().getName(), (HoldSampler.isHeld(n) ? "held" : "-") + "/" + (r == null
                    ? "no remediation" : r.getAction() + (r.getSuppressed() == null ? "" : " " + r.getSuppressed())));
        }
        return out.toString();
    }

    // ---- operator processes ----

    /** A real token of the chart's operator account, and a kubeconfig that reaches the API server through the proxy. */
    public Path kubeconfigThrough(FaultProxy proxy, String name) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "kube-it"));
            return proxy.kubeconfigFor(cluster.token(admin, NAMESPACE, OPERATOR_SA), dir.resolve(name + ".kubeconfig"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Starts {@code java -jar execguard.jar operator} as replica {@code identity} through the proxy. */
    public OperatorProcess startOperator(FaultProxy proxy, String identity, Map<String, String> extraEnv) {
        Path jar = Path.of(System.getProperty("execguard.jar", "target/execguard.jar"));
        Map<String, String> env = new HashMap<>(Map.of("POD_NAMESPACE", NAMESPACE, "POD_NAME", identity,
                "LEADER_ELECTION", "true", "LEASE_NAME", lease(), "PROBE_HEARTBEAT", "60s"));
        env.putAll(extraEnv);
        return OperatorProcess.start(jar, kubeconfigThrough(proxy, identity), env,
                Path.of("target", "kube-it", identity + ".log"));
    }

    /** The Lease's holder, or null. */
    public String leaseHolder() {
        var l = admin.leases().inNamespace(NAMESPACE).withName(lease()).get();
        return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
    }

    /** How often the process logged that it started (more than once: it was restarted in place). */
    public static long starts(OperatorProcess p) {
        return p.logText().lines().filter(l -> OPERATOR_STARTED.matcher(l).find()).count();
    }

    /** A counter of the operator's /metrics summed over all label sets matching {@code labels}, e.g. kind="cordoned". */
    public static double metric(OperatorProcess p, String name, String labels) {
        return p.metrics().lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .filter(l -> labels == null || l.contains(labels))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    public static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    // ---- clean-up ----

    /** Deletes everything with this prefix (also a failed earlier run's), waiting until the Nodes are gone. */
    public void cleanUp() {
        admin.nodes().withLabel(SUITE_LABEL, suite()).delete();
        admin.resources(NodeExecHealth.class).list().getItems().stream()
                .filter(n -> n.getMetadata().getName().startsWith(prefix))
                .forEach(n -> admin.resource(n).delete());
        admin.resources(ExecHealthPolicy.class).withName(policyName()).delete();
        List<Event> events = admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getInvolvedObject() != null && e.getInvolvedObject().getName() != null
                        && (e.getInvolvedObject().getName().startsWith(prefix)
                            || e.getInvolvedObject().getName().equals(policyName()))).toList();
        events.forEach(e -> admin.resource(e).delete());
        if (admin.namespaces().withName(NAMESPACE).get() != null) {
            admin.leases().inNamespace(NAMESPACE).withName(lease()).delete();
        }
        KubeCluster.await(Duration.ofSeconds(60), "the suite's Nodes to be gone",
                () -> admin.nodes().withLabel(SUITE_LABEL, suite()).list().getItems().isEmpty());
    }
}
