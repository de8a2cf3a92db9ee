package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthSpec;

/**
 * helm/execguard installed, upgraded and uninstalled with the real Helm library (helm-java) into the real
 * API server, and {@code kubectl apply --server-side -f crd/ -f operator/} giving the same objects. No
 * scheduler or kubelet runs: pods stay Pending, so nothing waits for readiness.
 */
class ChartInstallKubeIT {

    static final Path CHART = Path.of("helm/execguard");
    /** A release of its own (names derive from it), so nothing collides with the access tests. */
    static final String RELEASE = "chart-install-kube-it";
    static final String NS = "chart-install-kube-it";
    static final Map<String, Object> VALUES = Map.of("policy.name", RELEASE);

    static KubeCluster cluster;
    static KubernetesClient admin;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
    }

    @AfterAll
    static void down() {
        try {
            Helm.uninstall(RELEASE).withNamespace(NS).withKubeConfig(cluster.kubeconfig()).ignoreNotFound().call();
            Helm.uninstall("execguard").withNamespace("execguard").withKubeConfig(cluster.kubeconfig())
                    .ignoreNotFound().call();
            cluster.kubectl(null, "delete", "-f", "operator/", "--ignore-not-found", "--wait=true");
            admin.resources(NodeExecHealth.class).withName(RELEASE + "-report").delete();
            admin.resources(ExecHealthPolicy.class).withName(RELEASE + "-own").delete();
            admin.namespaces().withName(NS).delete();
        } finally {
            admin.close();
        }
    }

    @Test
    void installUpgradeUninstall() {
        List<HasMetadata> rendered = render(RELEASE, NS, VALUES);
        Release installed = new Helm(CHART).install().withName(RELEASE).withNamespace(NS).createNamespace()
                .withKubeConfig(cluster.kubeconfig()).set("policy.name", RELEASE).call();
        assertEquals("deployed", installed.getStatus());
        assertEquals("1", installed.getRevision());
        for (HasMetadata o : rendered) {
            HasMetadata live = admin.resource(o).get();
            assertNotNull(live, key(o) + " not on the server after helm install");
            assertEquals(RELEASE, live.getMetadata().getAnnotations().get("meta.helm.sh/release-name"), key(o));
            assertEquals(RELEASE, live.getMetadata().getLabels().get("app.kubernetes.io/instance"), key(o));
        }
        DaemonSet ds = admin.apps().daemonSets().inNamespace(NS).withName(RELEASE + "-execguard-probe").get();
        assertEquals("10s", env(probeContainer(ds), "SCAN_INTERVAL"));
        assertTrue(!capabilities(ds).getAdd().contains("KILL"), "repairs off by default");
        assertEquals(Boolean.TRUE, admin.resources(ExecHealthPolicy.class).withName(RELEASE).get().getSpec().getDryRun(),
                "the chart starts in dry run");

        Release upgraded = new Helm(CHART).upgrade().withName(RELEASE).withNamespace(NS).withKubeConfig(cluster.kubeconfig())
                .set("policy.name", RELEASE).set("probe.scanInterval", "30s").set("policy.dryRun", false)
                .set("probe.repairs", true).call();
        assertEquals("deployed", upgraded.getStatus());
        assertEquals("2", upgraded.getRevision());
        ds = admin.apps().daemonSets().inNamespace(NS).withName(RELEASE + "-execguard-probe").get();
        assertEquals(2L, ds.getMetadata().getGeneration(), "the DaemonSet's pod template changed once");
        assertEquals("30s", env(probeContainer(ds), "SCAN_INTERVAL"));
        assertTrue(capabilities(ds).getAdd().containsAll(List.of("KILL", "DAC_OVERRIDE")), capabilities(ds).toString());
        assertTrue(ds.getSpec().getTemplate().getSpec().getVolumes().stream().anyMatch(v -> v.getHostPath() != null
                && "/sys/fs/fuse/connections".equals(v.getHostPath().getPath())), "writable fusectl volume");
        assertTrue(probeContainer(ds).getVolumeMounts().stream().anyMatch(m -> "/host/sys/fs/fuse/connections"
                .equals(m.getMountPath()) && !Boolean.TRUE.equals(m.getReadOnly())), "fusectl mounted writable");
        assertEquals(Boolean.FALSE, admin.resources(ExecHealthPolicy.class).withName(RELEASE).get().getSpec().getDryRun(),
                "upgraded out of dry run");
        // the operator's Deployment does not change with probe values
        assertEquals(1L, admin.apps().deployments().inNamespace(NS).withName(RELEASE + "-execguard-operator").get()
                .getMetadata().getGeneration());

        // objects that are not the chart's: README says they stay, as do the CRDs
        NodeExecHealth report = new NodeExecHealth();
        report.getMetadata().setName(RELEASE + "-report");
        report.setSpec(new NodeExecHealthSpec(RELEASE + "-report"));
        admin.resources(NodeExecHealth.class).resource(report).create();
        cluster.kubectl("""
                apiVersion: execguard.io/v1alpha1
                kind: ExecHealthPolicy
                metadata: {name: %s-own}
                spec: {dryRun: true}
                """.formatted(RELEASE), "apply", "-f", "-").ok();

        Helm.uninstall(RELEASE).withNamespace(NS).withKubeConfig(cluster.kubeconfig()).call();
        for (HasMetadata o : rendered) {
            KubeCluster.await(Duration.ofSeconds(60), key(o) + " gone after helm uninstall",
                    () -> admin.resource(o).get() == null);
        }
        for (String crd : List.of("nodeexechealths.execguard.io", "exechealthpolicies.execguard.io")) {
            assertNotNull(admin.apiextensions().v1().customResourceDefinitions().withName(crd).get(), crd + " stays");
        }
        assertNotNull(admin.resources(NodeExecHealth.class).withName(RELEASE + "-report").get(), "reports stay");
        assertNotNull(admin.resources(ExecHealthPolicy.class).withName(RELEASE + "-own").get(), "own policies stay");
        assertTrue(Helm.list().withKubeConfig(cluster.kubeconfig()).withNamespace(NS).call().stream()
                .noneMatch(r -> RELEASE.equals(r.getName())), "release gone");
    }

    /**
     * The default release (execguard in execguard, namespace.create=true: what operator/ is rendered from)
     * by Helm, then operator/ by kubectl: the same objects with the same content, apart from what the
     * server fills in per object and Helm's ownership annotations.
     */
    @Test
    void plainManifestsApplyTheSameObjectsAsHelm() throws Exception {
        Map<String, Object> plainValues = Map.of("namespace.create", true);
        List<HasMetadata> rendered = render("execguard", "execguard", plainValues);
        List<HasMetadata> plain = admin.load(Files.newInputStream(Path.of("operator/execguard.yaml"))).items();
        assertEquals(keys(rendered), keys(plain), "operator/ has the objects of the default render");
        assertTrue(rendered.stream().map(HasMetadata::getKind).collect(java.util.stream.Collectors.toSet())
                .containsAll(java.util.Set.of("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                        "Role", "RoleBinding", "DaemonSet", "Deployment", "PodDisruptionBudget", "ExecHealthPolicy",
                        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")), keys(rendered).toString());

        // Helm stores the release in its namespace, so it must exist first; Helm adopts it through these
        admin.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName("execguard")
                .addToLabels("app.kubernetes.io/managed-by", "Helm")
                .addToAnnotations("meta.helm.sh/release-name", "execguard")
                .addToAnnotations("meta.helm.sh/release-namespace", "execguard").endMetadata().build()).create();
        Release r = new Helm(CHART).install().withName("execguard").withNamespace("execguard")
                .withKubeConfig(cluster.kubeconfig()).set("namespace.create", true).call();
        assertEquals("deployed", r.getStatus());
        Map<String, Map<String, Object>> byHelm = snapshot(rendered);
        Helm.uninstall("execguard").withNamespace("execguard").withKubeConfig(cluster.kubeconfig()).call();
        awaitGone(rendered);

        cluster.kubectl(null, "apply", "--server-side", "-f", "crd/", "-f", "operator/").ok();
        try {
            Map<String, Map<String, Object>> byKubectl = snapshot(rendered);
            assertEquals(byHelm.keySet(), byKubectl.keySet());
            org.slf4j.LoggerFactory.getLogger(ChartInstallKubeIT.class).info("comparing {} objects: {}",
                    byHelm.size(), byHelm.keySet());
            for (String k : byHelm.keySet()) {
                assertEquals(Serialization.asYaml(byHelm.get(k)), Serialization.asYaml(byKubectl.get(k)),
                        k + ": helm install and kubectl apply -f operator/ differ");
            }
        } finally {
            cluster.kubectl(null, "delete", "-f", "operator/", "--wait=true").ok();
            awaitGone(rendered);
        }
    }

    /** Each object as the server has it, without the fields that differ per creation or per tool. */
    private Map<String, Map<String, Object>> snapshot(List<HasMetadata> objects) {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        for (HasMetadata o : objects) {
            HasMetadata live = admin.resource(o).get();
            assertNotNull(live, key(o) + " missing on the server");
            out.put(key(o), normalized(live));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> normalized(HasMetadata live) {
        Map<String, Object> m = Serialization.unmarshal(Serialization.asJson(live), LinkedHashMap.class);
        m.remove("status");
        Map<String, Object> meta = (Map<String, Object>) m.get("metadata");
        for (String f : List.of("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")) {
            meta.remove(f);
        }
        Map<String, Object> ann = (Map<String, Object>) meta.get("annotations");
        if (ann != null) {
            ann.keySet().removeIf(k -> k.startsWith("meta.helm.sh/"));
            if (ann.isEmpty()) {
                meta.remove("annotations");
            }
        }
        return m;
    }

    private void awaitGone(List<HasMetadata> objects) {
        for (HasMetadata o : objects) {
            KubeCluster.await(Duration.ofSeconds(90), key(o) + " deleted", () -> admin.resource(o).get() == null);
        }
    }

    /** {@code helm template} with the same values, without CRDs (crds/ is not templated). */
    static List<HasMetadata> render(String release, String ns, Map<String, Object> values) {
        var cmd = new Helm(CHART).template().withName(release).withNamespace(ns);
        values.forEach(cmd::set);
        try (KubernetesClient c = cluster.admin()) {
            return c.load(new ByteArrayInputStream(cmd.call().getBytes(StandardCharsets.UTF_8))).items();
        }
    }

    static String key(HasMetadata o) {
        String ns = o.getMetadata().getNamespace();
        return o.getKind() + "/" + (ns == null ? "" : ns + "/") + o.getMetadata().getName();
    }

    static List<String> keys(List<HasMetadata> objects) {
        return objects.stream().map(ChartInstallKubeIT::key).sorted().toList();
    }

    static Container probeContainer(DaemonSet ds) {
        return ds.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> name.equals(e.getName())).map(EnvVar::getValue).findFirst()
                .orElse(null);
    }

    static Capabilities capabilities(DaemonSet ds) {
        return probeContainer(ds).getSecurityContext().getCapabilities();
    }
}
