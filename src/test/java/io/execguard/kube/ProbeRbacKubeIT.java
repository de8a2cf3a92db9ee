package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.NodeExecHealth;
import io.execguard.kube.ApiCall.Expect;
import io.execguard.kube.ApiCall.Row;
import io.execguard.probe.PodIndex;
import io.execguard.probe.PodWatcher;

/**
 * The probe's RBAC (the chart's ClusterRole, ACCESS_KINDS applied) on the real API server, with the
 * credential a probe pod really has: a service-account token bound to a Pod on node A. The allowed half
 * is proven by running the probe itself (the jar, {@code execguard probe} on a fixture host) and its pod
 * watch with that token; the refused half is a table of calls the probe must not be able to make.
 */
class ProbeRbacKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(ProbeRbacKubeIT.class);

    static final String PREFIX = "probe-rbac-kube-it";
    static final String NODE_A = PREFIX + "-a";
    static final String NODE_B = PREFIX + "-b";
    static final String NS = "execguard";
    static final String PROBE_SA = "execguard-probe";
    /** Sorts before any "default" policy and selects only node A: the probe on A must pick it. */
    static final String POLICY = "0-" + PREFIX;
    static final String EVENT_NS = "default";
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/seed004-pidns-fuse");

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static Node nodeA;
    static Node nodeB;
    static Pod probePod;
    static Pod podOnB;
    static KubernetesClient probe;
    static String probeToken;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
        nodeA = cluster.createNode(admin, NODE_A, Map.of(PREFIX, "a"));
        nodeB = cluster.createNode(admin, NODE_B, Map.of(PREFIX, "b"));
        probePod = cluster.createPodOn(admin, NS, PREFIX + "-probe", PROBE_SA, NODE_A);
        podOnB = cluster.createPodOn(admin, "default", PREFIX + "-on-b", "default", NODE_B);
        admin.resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(nodeB)).create();
        // probe-side effect that shows the policy was read: without UnkillableTask and
        // PidNamespaceTeardownStuck in unhealthyTypes the fixture's findings make the node Degraded, not Unhealthy
        cluster.kubectl("""
                apiVersion: execguard.io/v1alpha1
                kind: ExecHealthPolicy
                metadata: {name: %s}
                spec:
                  nodeSelector: {%s: a}
                  unhealthyTypes: [StuckRuntimeInit]
                """.formatted(POLICY, PREFIX), "apply", "-f", "-").ok();
        probeToken = cluster.podBoundToken(admin, probePod);
        probe = cluster.withToken(probeToken);
    }

    @AfterAll
    static void down() {
        try {
            if (probe != null) {
                probe.close();
            }
            admin.v1().events().inNamespace(EVENT_NS).list().getItems().stream()
                    .filter(e -> e.getMetadata().getName().startsWith(PREFIX))
                    .forEach(e -> admin.resource(e).delete());
            admin.resources(NodeExecHealth.class).withName(NODE_A).delete();
            admin.resources(NodeExecHealth.class).withName(NODE_B).delete();
            admin.resources(ExecHealthPolicy.class).withName(POLICY).delete();
            for (Pod p : new Pod[] {probePod, podOnB}) {
                if (p != null) {
                    admin.resource(p).withGracePeriod(0).delete();
                }
            }
            admin.nodes().withName(NODE_A).delete();
            admin.nodes().withName(NODE_B).delete();
            cluster.deleteAll(admin, chart);
        } finally {
            admin.close();
        }
    }

    /** The probe process itself, as the DaemonSet runs it, authenticated by the pod-bound token. */
    @Test
    void theProbeRunsWithItsPodBoundToken() throws Exception {
        Path kubeconfig = cluster.kubeconfigFor(cluster.podBoundToken(admin, probePod),
                Path.of("target", PREFIX + ".kubeconfig"));
        Path log = Path.of("target", PREFIX + "-probe.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar(), "probe", "--node-name", NODE_A, "--host-root", FIXTURE.toString(),
                "--scan-interval", "1s", "--heartbeat", "5s", "--metrics-port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        Process p = pb.start();
        try {
            KubeCluster.await(Duration.ofSeconds(90), "NodeExecHealth/" + NODE_A + " written by the probe (log "
                    + log + ")", () -> {
                NodeExecHealth n = admin.resources(NodeExecHealth.class).withName(NODE_A).get();
                return n != null && n.getStatus() != null && n.getStatus().getPhase() != null;
            });
            NodeExecHealth neh = admin.resources(NodeExecHealth.class).withName(NODE_A).get();
            OwnerReference owner = neh.getMetadata().getOwnerReferences().get(0);
            assertEquals("Node", owner.getKind());
            assertEquals(nodeA.getMetadata().getUid(), owner.getUid(), "owned by its Node (GC deletes it with the Node)");
            assertEquals(NODE_A, neh.getSpec().getNodeName());
            assertEquals("Degraded", neh.getStatus().getPhase().name(),
                    "the policy " + POLICY + " (list exechealthpolicies + get node) was read; log " + log);
            assertTrue(neh.getStatus().getFindings().size() >= 3, String.valueOf(neh.getStatus().getFindings()));

            KubeCluster.await(Duration.ofSeconds(30), "Critical Events on Node and NodeExecHealth " + NODE_A,
                    () -> eventKinds().containsAll(Set.of("Node", "NodeExecHealth")));
            // a later scan's status write (heartbeat 5 s) still succeeds
            String first = neh.getStatus().getLastProbeTime();
            KubeCluster.await(Duration.ofSeconds(30), "a heartbeat status write", () -> !first.equals(
                    admin.resources(NodeExecHealth.class).withName(NODE_A).get().getStatus().getLastProbeTime()));
            assertTrue(p.isAlive(), "probe exited " + (p.isAlive() ? "" : p.exitValue()));
        } finally {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        String out = Files.readString(log);
        assertFalse(!KubeCluster.refusals(out).isEmpty() || out.contains("pod watch failed"),
                "the probe hit a refusal:\n" + out);
    }

    /** PodWatcher with the probe's token: list+watch pods with fieldSelector spec.nodeName=A. */
    @Test
    void podWatchSeesItsNodesPods() {
        try (PodWatcher w = new PodWatcher(cluster.probeApi(probeToken), NODE_A)) {
            w.start();
            KubeCluster.await(Duration.ofSeconds(30), "pod watch synced", w::synced);
            Pod later = cluster.createPodOn(admin, "default", PREFIX + "-later-on-a", "default", NODE_A);
            try {
                KubeCluster.await(Duration.ofSeconds(30), "the watch delivers a new pod on " + NODE_A,
                        () -> names(w.index()).contains(later.getMetadata().getName()));
                Set<String> seen = names(w.index());
                assertTrue(seen.contains(probePod.getMetadata().getName()), seen.toString());
                assertFalse(seen.contains(podOnB.getMetadata().getName()), seen.toString());
            } finally {
                admin.resource(later).withGracePeriod(0).delete();
            }
        }
    }

    private static Set<String> names(PodIndex idx) {
        return idx.pods().stream().map(p -> p.name()).collect(Collectors.toSet());
    }

    private static Set<String> eventKinds() {
        return admin.v1().events().inNamespace(EVENT_NS).withField("involvedObject.name", NODE_A).list().getItems()
                .stream().filter(e -> "execguard-probe".equals(e.getSource().getComponent()))
                .map(e -> e.getInvolvedObject().getKind()).collect(Collectors.toSet());
    }

    /** Every call the probe makes, made directly, and what it must not do: the table. */
    @Test
    void permissionTable() {
        List<Row> rows = new ArrayList<>();
        String podPath = "/api/v1/namespaces/" + NS + "/pods/" + probePod.getMetadata().getName();
        // the probe's own calls (KubeStatusWriter, PodWatcher, ProbeRun.PolicyCache)
        allowed(rows, ApiCall.of("get nodes/" + NODE_A, () -> probe.nodes().withName(NODE_A).get()));
        allowed(rows, ApiCall.of("list pods -A fieldSelector spec.nodeName=" + NODE_A,
                () -> probe.pods().inAnyNamespace().withField("spec.nodeName", NODE_A).list()));
        allowed(rows, ApiCall.of("list exechealthpolicies", () -> probe.resources(ExecHealthPolicy.class).list()));
        allowed(rows, ApiCall.of("get nodeexechealths/" + NODE_B, () -> probe.resources(NodeExecHealth.class)
                .withName(NODE_B).get()));
        allowed(rows, ApiCall.of("create events -n default (involvedObject Node " + NODE_A + ")",
                () -> probe.v1().events().inNamespace(EVENT_NS).resource(event(PREFIX + "-table")).create()));
        // wider than the probe needs, and RBAC cannot narrow it: documented, not wanted
        allowed(rows, ApiCall.of("list pods -A (no field selector) [RBAC cannot restrict]",
                () -> probe.pods().inAnyNamespace().list()));
        allowed(rows, ApiCall.of("get nodes/" + NODE_B + " [RBAC cannot restrict by name]",
                () -> probe.nodes().withName(NODE_B).get()));

        refused(rows, ApiCall.of("get secrets -n kube-system", () -> probe.secrets().inNamespace("kube-system")
                .withName("any").get()));
        refused(rows, ApiCall.of("list secrets -A", () -> probe.secrets().inAnyNamespace().list()));
        refused(rows, ApiCall.of("list secrets -n " + NS, () -> probe.secrets().inNamespace(NS).list()));
        refused(rows, ApiCall.of("list nodes", () -> probe.nodes().list()));
        refused(rows, ApiCall.raw(probe, "GET", "/api/v1/nodes?watch=true&timeoutSeconds=1", null));
        refused(rows, ApiCall.of("patch nodes/" + NODE_A + " (label)", () -> probe.nodes().withName(NODE_A)
                .edit(n -> {
                    n.getMetadata().getLabels().put(PREFIX + "-x", "1");
                    return n;
                })));
        refused(rows, ApiCall.of("update nodes/" + NODE_A + " (cordon)", () -> {
            Node n = admin.nodes().withName(NODE_A).get();
            n.getSpec().setUnschedulable(true);
            probe.nodes().resource(n).update();
        }));
        refused(rows, ApiCall.raw(probe, "PATCH", "/api/v1/nodes/" + NODE_A + "/status",
                "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}"));
        refused(rows, ApiCall.raw(probe, "DELETE", "/api/v1/nodes/" + NODE_B, null));
        refused(rows, ApiCall.raw(probe, "GET", "/api/v1/nodes/" + NODE_A + "/proxy/pods", null));
        refused(rows, ApiCall.of("create pods -n default", () -> probe.pods().inNamespace("default")
                .resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName(PREFIX + "-new")
                        .endMetadata().withNewSpec().addNewContainer().withName("c").withImage("x").endContainer()
                        .endSpec().build()).create()));
        refused(rows, ApiCall.of("delete pods/" + podOnB.getMetadata().getName(),
                () -> probe.resource(podOnB).delete()));
        refused(rows, ApiCall.raw(probe, "POST", podPath + "/exec?command=true&stdout=true&container=c", null));
        refused(rows, ApiCall.raw(probe, "POST", podPath + "/eviction",
                "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\""
                        + probePod.getMetadata().getName() + "\",\"namespace\":\"" + NS + "\"}}"));
        refused(rows, ApiCall.raw(probe, "POST", "/api/v1/namespaces/" + NS + "/serviceaccounts/execguard-operator/token",
                "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":{}}"));
        refused(rows, ApiCall.of("create exechealthpolicies", () -> probe.resources(ExecHealthPolicy.class)
                .resource(policy(PREFIX + "-new")).create()));
        refused(rows, ApiCall.raw(probe, "PATCH", "/apis/execguard.io/v1alpha1/exechealthpolicies/" + POLICY,
                "{\"spec\":{\"dryRun\":true}}"));
        refused(rows, ApiCall.of("delete exechealthpolicies/" + POLICY, () -> probe.resources(ExecHealthPolicy.class)
                .withName(POLICY).delete()));
        refused(rows, ApiCall.of("delete nodeexechealths/" + NODE_B, () -> probe.resources(NodeExecHealth.class)
                .withName(NODE_B).delete()));
        refused(rows, ApiCall.of("update nodeexechealths/" + NODE_B, () -> {
            NodeExecHealth n = admin.resources(NodeExecHealth.class).withName(NODE_B).get();
            n.getMetadata().setLabels(Map.of(PREFIX, "x"));
            probe.resources(NodeExecHealth.class).resource(n).update();
        }));
        ApiCall createB = ApiCall.of("create nodeexechealths/" + NODE_B + "-2 [admission]", () -> probe
                .resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(nodeNamed(NODE_B + "-2"))).create());
        refused(rows, createB);
        ApiCall statusB = ApiCall.of("patch nodeexechealths/" + NODE_B + "/status [admission]",
                () -> probe.resources(NodeExecHealth.class).withName(NODE_B).editStatus(n -> {
                    n.setStatus(new io.execguard.api.NodeExecHealthStatus());
                    n.getStatus().setProbeVersion("forged");
                    return n;
                }));
        refused(rows, statusB);
        refused(rows, ApiCall.of("delete events -n default", () -> probe.v1().events().inNamespace(EVENT_NS)
                .withName(PREFIX + "-table").delete()));
        refused(rows, ApiCall.of("create configmaps -n " + NS, () -> probe.configMaps().inNamespace(NS)
                .resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata()
                        .withName(PREFIX).endMetadata().build()).create()));

        String table = ApiCall.table("RBAC of system:serviceaccount:" + NS + ":" + PROBE_SA
                + " (token bound to pod " + probePod.getMetadata().getName() + " on node " + NODE_A + ")", rows);
        LOG.info("\n{}", table);
        List<Row> wrong = rows.stream().filter(r -> !r.asExpected()).toList();
        assertTrue(wrong.isEmpty(), "not as expected: " + wrong + "\n" + table);
        String ownNode = "the execguard probe on node " + NODE_A + " may only write NodeExecHealth/" + NODE_A + ", not ";
        assertTrue(statusB.message().contains(ownNode + NODE_B), statusB.message());
        assertTrue(createB.message().contains(ownNode + NODE_B + "-2"), createB.message());
        var statusOfB = admin.resources(NodeExecHealth.class).withName(NODE_B).get().getStatus();
        assertTrue(statusOfB == null || !"forged".equals(statusOfB.getProbeVersion()), "B's status unchanged");
        assertEquals(null, admin.resources(NodeExecHealth.class).withName(NODE_B + "-2").get(), "not created");
        rows.stream().filter(r -> r.expect() == Expect.REFUSED && !r.result().call().contains("[admission]"))
                .forEach(r -> assertTrue(r.result().message().contains("system:serviceaccount:" + NS + ":" + PROBE_SA)
                        && r.result().message().contains("cannot"), "an RBAC refusal: " + r));
    }

    private static void allowed(List<Row> rows, ApiCall c) {
        rows.add(new Row(Expect.ALLOWED, c));
    }

    private static void refused(List<Row> rows, ApiCall c) {
        rows.add(new Row(Expect.REFUSED, c));
    }

    private static Node nodeNamed(String name) {
        return new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName(name)
                .withUid("00000000-0000-0000-0000-000000000000").endMetadata().build();
    }

    private static ExecHealthPolicy policy(String name) {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(name);
        p.setSpec(new io.execguard.api.ExecHealthPolicySpec());
        return p;
    }

    private static Event event(String name) {
        return new EventBuilder().withNewMetadata().withName(name).withNamespace(EVENT_NS).endMetadata()
                .withNewInvolvedObject().withApiVersion("v1").withKind("Node").withName(NODE_A).endInvolvedObject()
                .withReason("PermissionTable").withMessage("written by " + PREFIX).withType("Normal")
                .withNewSource().withComponent(PREFIX).endSource().build();
    }

    private static String jar() {
        String j = System.getProperty("execguard.jar", "target/execguard.jar");
        if (!Files.exists(Path.of(j))) {
            throw new IllegalStateException("no " + j + " (mvn package builds it before the ITs)");
        }
        return j;
    }
}
