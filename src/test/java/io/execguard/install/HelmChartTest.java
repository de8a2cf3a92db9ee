package io.execguard.install;

import static io.execguard.install.Chart.at;
import static io.execguard.install.Chart.str;
import static io.execguard.install.Chart.values;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.install.Chart.Rendered;
import io.execguard.probe.ProbeConfig;

/**
 * Renders helm/execguard with the real Helm library, for the default values and for a customised
 * set, and checks the objects against what docs/INSTALL.md promises: least-privilege RBAC, the
 * probe's capabilities and mounts, a non-root operator, the admission policy, the default policy.
 */
@SuppressWarnings("unchecked")
class HelmChartTest {

    static final String PROBE = "execguard-probe";
    static final String OPERATOR = "execguard-operator";
    static final List<String> PROBE_ENV = List.of("NODE_NAME", "HOST_ROOT", "SCAN_INTERVAL", "HEARTBEAT",
            "METRICS_PORT", "READ_TIMEOUT", "POD_STUCK_TERMINATING", "MAX_FINDINGS", "CRI_SOCKET", "CANARY_DEADLINE",
            "RUNTIME_CALL_DEADLINE");
    static final List<String> OPERATOR_ENV = List.of("POD_NAMESPACE", "LEADER_ELECTION", "LEASE_NAME",
            "LEASE_DURATION", "RENEW_DEADLINE", "RETRY_PERIOD",
            "METRICS_PORT", "RESYNC_INTERVAL", "RECONCILE_THREADS", "PROBE_HEARTBEAT");

    /** A customised install: every probe/operator env value changed, optional parts switched. */
    static final Map<String, Object> CUSTOM = values(
            "probe.scanInterval", "30s", "probe.heartbeat", "2m", "probe.metricsPort", 9191,
            "probe.readTimeout", "2s", "probe.podStuckTerminating", "5m", "probe.maxFindings", 20,
            "probe.hostRoot", "/node", "probe.kernelStacks", false, "probe.jvmOptions", "-Xmx96m",
            "operator.replicas", 3, "operator.leaderElection", true, "operator.leaseName", "eg-leader",
            "operator.metricsPort", 9292, "operator.resyncInterval", "5m",
            "namespace.create", true, "serviceMonitor.enabled", true, "admissionPolicy.enabled", false,
            "policy.dryRun", false, "policy.maxUnhealthy", 3, "policy.actions.nodeCritical", "Taint",
            "image.tag", "1.2.3", "commonLabels.team", "platform");

    static Rendered defaults() {
        return Rendered.of(Map.of());
    }

    @Test
    void lintPasses() {
        LintResult lint = new Helm(Chart.DIR).lint().strict().call();
        assertFalse(lint.isFailed(), () -> "helm lint --strict: " + lint.getMessages());
    }

    // ---- RBAC ----

    @Test
    void rbacHasNoWildcardsAndNoSecrets() {
        for (Rendered r : List.of(defaults(), Rendered.of(CUSTOM))) {
            List<Map<String, Object>> roles = new ArrayList<>(r.ofKind("ClusterRole"));
            roles.addAll(r.ofKind("Role"));
            assertFalse(roles.isEmpty());
            for (Map<String, Object> role : roles) {
                String name = str(role, "metadata", "name");
                assertNull(role.get("aggregationRule"), name);
                for (Map<String, Object> rule : rules(role)) {
                    for (String field : List.of("apiGroups", "resources", "verbs", "resourceNames",
                            "nonResourceURLs")) {
                        for (String v : strings(rule.get(field))) {
                            assertFalse(v.contains("*"), () -> name + " " + field + " has a wildcard: " + rule);
                        }
                    }
                    assertNull(rule.get("nonResourceURLs"), name);
                    for (String res : strings(rule.get("resources"))) {
                        assertFalse(res.startsWith("secrets") || res.startsWith("configmaps")
                                || res.equals("serviceaccounts/token"), () -> name + " reaches " + res);
                    }
                    for (String verb : strings(rule.get("verbs"))) {
                        assertFalse(Set.of("escalate", "bind", "impersonate", "delete", "deletecollection")
                                .contains(verb), () -> name + " may " + verb);
                    }
                }
            }
            for (Map<String, Object> b : r.ofKind("ClusterRoleBinding")) {
                assertNotEquals("cluster-admin", str(b, "roleRef", "name"));
            }
        }
    }

    @Test
    void probeRbacIsExactlyWhatTheProbeCalls() {
        Map<String, Set<String>> rules = verbsByResource(defaults().get("ClusterRole", PROBE));
        assertEquals(Map.of(
                "/pods", Set.of("get", "list", "watch"),
                "/nodes", Set.of("get"),
                "execguard.io/nodeexechealths", Set.of("get", "create"),
                "execguard.io/nodeexechealths/status", Set.of("get", "patch"),
                "execguard.io/exechealthpolicies", Set.of("list"),
                "/events", Set.of("create")), rules);
        Map<String, Object> binding = defaults().get("ClusterRoleBinding", PROBE);
        assertEquals(PROBE, str(binding, "roleRef", "name"));
        assertEquals(List.of(Map.of("kind", "ServiceAccount", "name", PROBE, "namespace", Chart.NAMESPACE)),
                binding.get("subjects"));
    }

    @Test
    void operatorRbacIsExactlyWhatTheOperatorCallsAndTheLeaseIsNamespaced() {
        Rendered r = defaults();
        assertEquals(Map.of(
                "/nodes", Set.of("get", "list", "watch", "patch"),
                "/nodes/status", Set.of("patch"),
                "execguard.io/nodeexechealths", Set.of("get", "list", "watch"),
                "execguard.io/nodeexechealths/status", Set.of("patch"),
                "execguard.io/exechealthpolicies", Set.of("get", "list", "watch"),
                "execguard.io/exechealthpolicies/status", Set.of("patch")), verbsByResource(r.get("ClusterRole", OPERATOR)));
        // Events only where the API server takes Events about cluster-scoped objects
        Map<String, Object> events = r.get("Role", OPERATOR + "-events");
        assertEquals("default", str(events, "metadata", "namespace"));
        assertEquals(Map.of("/events", Set.of("create", "patch")), verbsByResource(events));
        assertEquals(OPERATOR, ((List<Map<String, Object>>) r.get("RoleBinding", OPERATOR + "-events")
                .get("subjects")).get(0).get("name"));
        Map<String, Object> lease = r.get("Role", OPERATOR + "-leader-election");
        assertEquals(Chart.NAMESPACE, str(lease, "metadata", "namespace"));
        assertEquals(Map.of("coordination.k8s.io/leases", Set.of("get", "create", "update", "patch")),
                verbsByResource(lease, true));
        // only create is unnamed (RBAC cannot name an object that does not exist yet); the rest is the one Lease
        for (Map<String, Object> rule : (List<Map<String, Object>>) lease.get("rules")) {
            Object names = rule.get("resourceNames");
            if (names == null) {
                assertEquals(List.of("create"), rule.get("verbs"), rule.toString());
            } else {
                assertEquals(List.of("execguard-operator"), names, rule.toString());
            }
        }
        assertEquals(OPERATOR, ((List<Map<String, Object>>) r.get("RoleBinding", OPERATOR + "-leader-election")
                .get("subjects")).get(0).get("name"));
        // no leases anywhere cluster-wide
        for (Map<String, Object> cr : r.ofKind("ClusterRole")) {
            assertFalse(verbsByResource(cr).containsKey("coordination.k8s.io/leases"));
        }
    }

    // ---- probe ----

    @Test
    void probeDaemonSetIsAsDocumented() {
        DaemonSet ds = defaults().typed("DaemonSet", PROBE, DaemonSet.class);
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertEquals(Boolean.TRUE, pod.getHostPID());
        assertNotEquals(Boolean.TRUE, pod.getHostNetwork());
        assertNotEquals(Boolean.TRUE, pod.getHostIPC());
        assertEquals("system-node-critical", pod.getPriorityClassName());
        assertEquals(PROBE, pod.getServiceAccountName());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
        assertEquals(0L, pod.getSecurityContext().getRunAsUser());

        // tolerates every taint, including execguard's own execguard.io/exec-unhealthy
        assertTrue(pod.getTolerations().stream().anyMatch(t -> "Exists".equals(t.getOperator()) && t.getKey() == null
                && t.getEffect() == null), () -> "no catch-all toleration: " + pod.getTolerations());

        assertTrue(tolerates(pod.getTolerations(), "execguard.io/exec-unhealthy"));
        assertTrue(tolerates(pod.getTolerations(), "node.kubernetes.io/unschedulable"));

        assertEquals(1, pod.getContainers().size());
        Container c = pod.getContainers().get(0);
        assertEquals(List.of("probe"), c.getArgs());
        var sc = c.getSecurityContext();
        assertNotEquals(Boolean.TRUE, sc.getPrivileged());
        assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
        assertEquals(List.of("SYS_PTRACE", "DAC_READ_SEARCH", "SYS_ADMIN"), sc.getCapabilities().getAdd());

        // host /proc and /sys read-only under HOST_ROOT, and the CRI socket's folder for the exec canary, read-only
        Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        Map<String, String> hostPaths = new TreeMap<>();
        volumes.values().stream().filter(v -> v.getHostPath() != null)
                .forEach(v -> hostPaths.put(v.getName(), v.getHostPath().getPath()));
        assertEquals(Map.of("host-proc", "/proc", "host-sys", "/sys", "cri-socket", "/run/containerd"), hostPaths);
        assertEquals("DirectoryOrCreate", volumes.get("cri-socket").getHostPath().getType(),
                "a node without the runtime's folder still runs the probe");
        Map<String, VolumeMount> mounts = c.getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getName, m -> m));
        assertEquals("/host/proc", mounts.get("host-proc").getMountPath());
        assertEquals("/host/sys", mounts.get("host-sys").getMountPath());
        for (String hostMount : hostPaths.keySet()) {
            assertEquals(Boolean.TRUE, mounts.get(hostMount).getReadOnly(), hostMount);
        }
        assertEquals("HostToContainer", mounts.get("host-sys").getMountPropagation());
        assertEquals("/tmp", mounts.get("tmp").getMountPath());
        assertEquals("Memory", volumes.get("tmp").getEmptyDir().getMedium());

        assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath());
        assertEquals(9090, c.getPorts().get(0).getContainerPort());

        // resources: requests and a memory limit, no CPU limit (throttling would stretch scans)
        Map<String, Quantity> req = c.getResources().getRequests();
        Map<String, Quantity> lim = c.getResources().getLimits();
        assertNotNull(req.get("cpu"));
        assertNotNull(req.get("memory"));
        assertNotNull(lim.get("memory"));
        assertNull(lim.get("cpu"));
        assertTrue(Quantity.getAmountInBytes(lim.get("memory")).compareTo(Quantity.getAmountInBytes(req.get("memory"))) > 0);
    }

    @Test
    void probeEnvIsExactlyProbeConfigAndParses() {
        for (Rendered r : List.of(defaults(), Rendered.of(CUSTOM))) {
            Container c = r.typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate().getSpec()
                    .getContainers().get(0);
            List<String> names = c.getEnv().stream().map(EnvVar::getName).filter(n -> !n.equals("JDK_JAVA_OPTIONS") && !n.equals("MALLOC_ARENA_MAX")).toList();
            assertEquals(PROBE_ENV, names);
            EnvVar node = c.getEnv().get(0);
            assertEquals("spec.nodeName", node.getValueFrom().getFieldRef().getFieldPath());
            Map<String, String> env = new HashMap<>();
            c.getEnv().stream().filter(e -> e.getValue() != null).forEach(e -> env.put(e.getName(), e.getValue()));
            env.put("NODE_NAME", "worker-1");
            ProbeConfig config = ProbeConfig.fromEnv(env); // the probe's own parser accepts every value
            assertEquals(c.getPorts().get(0).getContainerPort(), config.metricsPort());
            String hostRoot = config.hostRoot().toString();
            assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals(hostRoot + "/proc")));
            assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals(hostRoot + "/sys")));
        }
        ProbeConfig custom = ProbeConfig.fromEnv(envOf(Rendered.of(CUSTOM), "DaemonSet", PROBE));
        assertEquals(java.time.Duration.ofSeconds(30), custom.scanInterval());
        assertEquals(java.time.Duration.ofMinutes(2), custom.heartbeat());
        assertEquals(9191, custom.metricsPort());
        assertEquals(java.time.Duration.ofSeconds(2), custom.readTimeout());
        assertEquals(java.time.Duration.ofMinutes(5), custom.podStuckTerminating());
        assertEquals(20, custom.maxFindings());
        assertEquals("/node", custom.hostRoot().toString());
    }

    @Test
    void theCanarysSocketIsAValueAndEmptyMeansNoCanary() {
        Map<String, String> env = envOf(defaults(), "DaemonSet", PROBE);
        assertEquals("/run/execguard/cri/containerd.sock", env.get("CRI_SOCKET"));
        assertEquals("10s", env.get("CANARY_DEADLINE"));
        assertEquals("5s", env.get("RUNTIME_CALL_DEADLINE"));
        Rendered crio = Rendered.of(values("probe.criSocket", "/var/run/crio/crio.sock", "probe.canaryDeadline", "4s",
                "probe.runtimeCallDeadline", "3s"));
        PodSpec pod = crio.typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate().getSpec();
        assertEquals("/var/run/crio", pod.getVolumes().stream().filter(v -> v.getName().equals("cri-socket"))
                .findFirst().orElseThrow().getHostPath().getPath());
        ProbeConfig config = ProbeConfig.fromEnv(new HashMap<>(Map.of("NODE_NAME", "n",
                "CRI_SOCKET", envOf(crio, "DaemonSet", PROBE).get("CRI_SOCKET"),
                "CANARY_DEADLINE", envOf(crio, "DaemonSet", PROBE).get("CANARY_DEADLINE"),
                "RUNTIME_CALL_DEADLINE", envOf(crio, "DaemonSet", PROBE).get("RUNTIME_CALL_DEADLINE"))));
        assertEquals("/run/execguard/cri/crio.sock", config.criSocket().toString());
        assertEquals(java.time.Duration.ofSeconds(4), config.canaryDeadline());
        assertEquals(java.time.Duration.ofSeconds(3), config.runtimeCallDeadline());
        assertTrue(pod.getContainers().get(0).getVolumeMounts().stream().anyMatch(m -> m.getName().equals("cri-socket")
                && m.getMountPath().equals("/run/execguard/cri") && Boolean.TRUE.equals(m.getReadOnly())));
        Rendered none = Rendered.of(values("probe.criSocket", ""));
        PodSpec off = none.typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate().getSpec();
        assertTrue(off.getVolumes().stream().noneMatch(v -> v.getName().equals("cri-socket")));
        assertNull(envOf(none, "DaemonSet", PROBE).get("CRI_SOCKET"));
        assertNull(ProbeConfig.fromEnv(Map.of("NODE_NAME", "n")).criSocket(), "no CRI_SOCKET: no canary");
    }

    @Test
    void withoutKernelStacksTheProbeHasNoSysAdminAndNoPrivilegeEscalation() {
        Container c = Rendered.of(CUSTOM).typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate()
                .getSpec().getContainers().get(0);
        assertEquals(List.of("SYS_PTRACE", "DAC_READ_SEARCH"), c.getSecurityContext().getCapabilities().getAdd());
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals("-Xmx96m", c.getEnv().stream().filter(e -> e.getName().equals("JDK_JAVA_OPTIONS")).findFirst()
                .orElseThrow().getValue());
        assertEquals("ghcr.io/execguard/execguard:1.2.3", c.getImage());
        // the API server refuses allowPrivilegeEscalation=false together with CAP_SYS_ADMIN
        Container d = defaults().typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate().getSpec()
                .getContainers().get(0);
        assertNull(d.getSecurityContext().getAllowPrivilegeEscalation());
    }

    @Test
    void repairsAddOnlyTheWritableFusectlMountAndKillAndDacOverride() {
        PodSpec pod = Rendered.of(values("probe.repairs", true)).typed("DaemonSet", PROBE, DaemonSet.class).getSpec()
                .getTemplate().getSpec();
        Container c = pod.getContainers().get(0);
        assertEquals(List.of("SYS_PTRACE", "DAC_READ_SEARCH", "SYS_ADMIN", "KILL", "DAC_OVERRIDE"),
                c.getSecurityContext().getCapabilities().getAdd());
        Map<String, String> hostPaths = new TreeMap<>();
        pod.getVolumes().stream().filter(v -> v.getHostPath() != null)
                .forEach(v -> hostPaths.put(v.getName(), v.getHostPath().getPath()));
        assertEquals(Map.of("host-proc", "/proc", "host-sys", "/sys", "host-fusectl", "/sys/fs/fuse/connections",
                "cri-socket", "/run/containerd"), hostPaths);
        Map<String, VolumeMount> mounts = c.getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getName, m -> m));
        VolumeMount fusectl = mounts.get("host-fusectl");
        assertEquals("/host/sys/fs/fuse/connections", fusectl.getMountPath(), "where ProcHostRepairs writes abort");
        assertNotEquals(Boolean.TRUE, fusectl.getReadOnly());
        assertEquals(Boolean.TRUE, mounts.get("host-proc").getReadOnly());
        assertEquals(Boolean.TRUE, mounts.get("host-sys").getReadOnly());
    }

    @Test
    void apiServerAddressAndHostNetworkAreValuesForNodesWithoutAServiceNetwork() {
        Rendered defaults = defaults();
        for (String[] kind : new String[][] {{"DaemonSet", PROBE}, {"Deployment", OPERATOR}}) {
            assertFalse(envOf(defaults, kind[0], kind[1]).containsKey("KUBERNETES_SERVICE_HOST"),
                    "by default the kubelet's in-cluster address is used");
        }
        assertNotEquals(Boolean.TRUE, defaults.typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate()
                .getSpec().getHostNetwork());
        Rendered r = Rendered.of(values("kubernetesApi.host", "127.0.0.1", "kubernetesApi.port", 17443,
                "probe.hostNetwork", true, "operator.hostNetwork", true));
        for (String[] kind : new String[][] {{"DaemonSet", PROBE}, {"Deployment", OPERATOR}}) {
            Map<String, String> env = envOf(r, kind[0], kind[1]);
            assertEquals("127.0.0.1", env.get("KUBERNETES_SERVICE_HOST"), kind[1]);
            assertEquals("17443", env.get("KUBERNETES_SERVICE_PORT"), kind[1]);
        }
        PodSpec probe = r.typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate().getSpec();
        PodSpec operator = r.typed("Deployment", OPERATOR, Deployment.class).getSpec().getTemplate().getSpec();
        assertEquals(Boolean.TRUE, probe.getHostNetwork());
        assertEquals(Boolean.TRUE, operator.getHostNetwork());
        assertEquals("ClusterFirstWithHostNet", probe.getDnsPolicy());
        assertThrows(RuntimeException.class, () -> Rendered.of(values("kubernetesApi.host", "127.0.0.1")),
                "a host without a port is refused");
        Map<String, String> propagation = new TreeMap<>();
        Rendered.of(values("probe.repairs", true, "probe.mountPropagation", "None")).typed("DaemonSet", PROBE,
                DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0).getVolumeMounts()
                .forEach(m -> propagation.put(m.getName(), String.valueOf(m.getMountPropagation())));
        assertEquals("None", propagation.get("host-sys"), "for hosts whose /sys is a private mount");
        assertEquals("None", propagation.get("host-fusectl"));
        assertEquals("HostToContainer", defaults().typed("DaemonSet", PROBE, DaemonSet.class).getSpec().getTemplate()
                .getSpec().getContainers().get(0).getVolumeMounts().stream().filter(m -> m.getName().equals("host-sys"))
                .findFirst().orElseThrow().getMountPropagation());
    }

    // ---- operator ----

    @Test
    void operatorIsNonRootReadOnlyWithoutCapabilitiesTwoReplicasAndAPdb() {
        Rendered r = defaults();
        Deployment d = r.typed("Deployment", OPERATOR, Deployment.class);
        assertEquals(2, d.getSpec().getReplicas());
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        assertNotEquals(Boolean.TRUE, pod.getHostPID());
        assertNotEquals(Boolean.TRUE, pod.getHostNetwork());
        assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getHostPath() != null));
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertNotEquals(0L, pod.getSecurityContext().getRunAsUser());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
        assertEquals(OPERATOR, pod.getServiceAccountName());
        Container c = pod.getContainers().get(0);
        assertEquals(List.of("operator"), c.getArgs());
        var sc = c.getSecurityContext();
        assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem());
        assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation());
        assertNotEquals(Boolean.TRUE, sc.getPrivileged());
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
        assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty());
        assertEquals(OPERATOR_ENV, c.getEnv().stream().map(EnvVar::getName).filter(n -> !n.equals("JDK_JAVA_OPTIONS"))
                .toList());
        assertEquals("metadata.namespace", c.getEnv().get(0).getValueFrom().getFieldRef().getFieldPath());
        Map<String, String> env = envOf(r, "Deployment", OPERATOR);
        assertEquals("true", env.get("LEADER_ELECTION"));
        assertEquals("execguard-operator", env.get("LEASE_NAME"));
        assertEquals("9090", env.get("METRICS_PORT"));
        assertEquals("60s", env.get("RESYNC_INTERVAL"));
        assertEquals("60s", env.get("PROBE_HEARTBEAT"));
        assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath());
        assertNotNull(pod.getAffinity().getPodAntiAffinity());

        Map<String, Object> pdb = r.get("PodDisruptionBudget", OPERATOR);
        assertEquals(1, at(pdb, "spec", "maxUnavailable"));
        assertEquals(d.getSpec().getSelector().getMatchLabels(), at(pdb, "spec", "selector", "matchLabels"));
    }

    @Test
    void customisedOperatorValuesReachTheEnvironment() {
        Rendered r = Rendered.of(CUSTOM);
        assertEquals(3, r.typed("Deployment", OPERATOR, Deployment.class).getSpec().getReplicas());
        Map<String, String> env = envOf(r, "Deployment", OPERATOR);
        assertEquals("eg-leader", env.get("LEASE_NAME"));
        assertEquals("9292", env.get("METRICS_PORT"));
        assertEquals("5m", env.get("RESYNC_INTERVAL"));
        assertEquals("2m", env.get("PROBE_HEARTBEAT"), "the operator judges staleness by the probes' heartbeat");
        assertEquals("platform", str(r.get("Deployment", OPERATOR), "metadata", "labels", "team"));
    }

    @Test
    void defaultJvmFlagsAreTheImagesDefaultsOrMeasured() throws IOException {
        String dockerfile = Files.readString(java.nio.file.Path.of("Dockerfile"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^ENV JDK_JAVA_OPTIONS=\"([^\"]+)\"")
                .matcher(dockerfile);
        assertTrue(m.find(), "Dockerfile sets no ENV JDK_JAVA_OPTIONS");
        Rendered r = defaults();
        // the operator's own, measured (docs/SCALE.md): half its limit as heap (the caches grow with the fleet);
        // otherwise the image's flags, C1 only among them (C2's compilations took a core of 2 while converging)
        List<String> operator = List.of(envOf(r, "Deployment", OPERATOR).get("JDK_JAVA_OPTIONS").split(" "));
        assertTrue(operator.containsAll(List.of("-XX:MinRAMPercentage=50", "-XX:MaxRAMPercentage=50")), operator.toString());
        for (String flag : m.group(1).split(" ")) {
            if (!flag.contains("RAMPercentage=")) {
                assertTrue(operator.contains(flag), "operator lacks the image's " + flag + ": " + operator);
            }
        }
        assertTrue(operator.contains("-XX:TieredStopAtLevel=1"), operator.toString());
        assertTrue(operator.contains("-XX:AOTCache=/app/operator.aot"), operator.toString());
        assertTrue(dockerfile.contains("/app/operator.aot"), "the image carries the operator's AOT cache");
        // the probe's own, measured (docs/RESOURCES.md): the image's AOT cache, one malloc arena
        Map<String, String> probe = envOf(r, "DaemonSet", PROBE);
        assertTrue(probe.get("JDK_JAVA_OPTIONS").contains("-XX:AOTCache=/app/probe.aot"), probe.toString());
        assertTrue(dockerfile.contains("/app/probe.aot"), "the image carries the probe's AOT cache");
        assertEquals("1", probe.get("MALLOC_ARENA_MAX"));
        assertTrue(dockerfile.contains("ENTRYPOINT [\"/opt/java/bin/java\", \"-jar\", \"/app/execguard.jar\"]"),
                "JVM flags on the ENTRYPOINT would override JDK_JAVA_OPTIONS");
    }

    // ---- admission policy ----

    @Test
    void admissionPolicyRestrictsTheProbeToItsOwnNodeByDefault() {
        Rendered r = defaults();
        Map<String, Object> vap = r.get("ValidatingAdmissionPolicy", PROBE + "-own-node");
        assertEquals("admissionregistration.k8s.io/v1", vap.get("apiVersion"));
        assertEquals("Fail", str(vap, "spec", "failurePolicy"));
        Map<String, Object> rule = ((List<Map<String, Object>>) at(vap, "spec", "matchConstraints", "resourceRules"))
                .get(0);
        assertEquals(List.of("execguard.io"), rule.get("apiGroups"));
        assertEquals(List.of("nodeexechealths", "nodeexechealths/status"), rule.get("resources"));
        assertTrue(strings(rule.get("operations")).containsAll(List.of("CREATE", "UPDATE")));
        String match = str(((List<Map<String, Object>>) at(vap, "spec", "matchConditions")).get(0), "expression");
        assertEquals("request.userInfo.username == \"system:serviceaccount:execguard:execguard-probe\"", match);
        String all = Chart.str(vap, "spec").replace("\n", " ");
        assertTrue(all.contains("request.userInfo.extra['authentication.kubernetes.io/node-name']"), all);
        assertTrue(all.contains("request.name == variables.nodeName"), all);
        Map<String, Object> binding = r.get("ValidatingAdmissionPolicyBinding", PROBE + "-own-node");
        assertEquals(PROBE + "-own-node", str(binding, "spec", "policyName"));
        assertEquals(List.of("Deny"), at(binding, "spec", "validationActions"));

        Rendered off = Rendered.of(CUSTOM);
        assertFalse(off.has("ValidatingAdmissionPolicy"));
        assertFalse(off.has("ValidatingAdmissionPolicyBinding"));
    }

    @Test
    void admissionPolicyKeepsTheProbeOffTheOperatorsRemediation() {
        Map<String, Object> vap = defaults().get("ValidatingAdmissionPolicy", PROBE + "-own-node");
        String all = Chart.str(vap, "spec").replace("\n", " ");
        assertTrue(all.contains("object.status.remediation == oldObject.status.remediation"), all);
        assertTrue(all.contains("may not set or change status.remediation"), all);
    }

    @Test
    void admissionPolicyNarrowsTheOperatorsPowerOnNodes() {
        Map<String, Object> vap = defaults().get("ValidatingAdmissionPolicy", OPERATOR + "-node-fields");
        assertEquals("admissionregistration.k8s.io/v1", vap.get("apiVersion"));
        assertEquals("Fail", str(vap, "spec", "failurePolicy"));
        Map<String, Object> rule = ((List<Map<String, Object>>) at(vap, "spec", "matchConstraints", "resourceRules"))
                .get(0);
        assertEquals(List.of(""), rule.get("apiGroups"));
        assertEquals(List.of("nodes", "nodes/status"), rule.get("resources"));
        assertEquals(List.of("UPDATE"), rule.get("operations"));
        String match = str(((List<Map<String, Object>>) at(vap, "spec", "matchConditions")).get(0), "expression");
        assertEquals("request.userInfo.username == \"system:serviceaccount:execguard:execguard-operator\"", match);
        String all = Chart.str(vap, "spec").replace("\n", " ");
        for (String kept : List.of("object.metadata.?labels", "k.startsWith('execguard.io/')",
                "'execguard.io/exec-unhealthy'", "c.type != 'ExecHealthy'", "object.?spec.?providerID",
                "object.?status.?nodeInfo")) {
            assertTrue(all.contains(kept), kept + " in " + all);
        }
        Map<String, Object> binding = defaults().get("ValidatingAdmissionPolicyBinding", OPERATOR + "-node-fields");
        assertEquals(OPERATOR + "-node-fields", str(binding, "spec", "policyName"));
        assertEquals(List.of("Deny"), at(binding, "spec", "validationActions"));

        Rendered renamed = Rendered.of(values("serviceAccounts.operator.name", "eg-op"));
        assertEquals("request.userInfo.username == \"system:serviceaccount:execguard:eg-op\"",
                str(((List<Map<String, Object>>) at(renamed.get("ValidatingAdmissionPolicy", OPERATOR + "-node-fields"),
                        "spec", "matchConditions")).get(0), "expression"));
        assertFalse(Rendered.of(CUSTOM).has("ValidatingAdmissionPolicy"));
    }

    // ---- policy, namespace, monitoring ----

    @Test
    void defaultPolicyIsTheDocumentedDefaultsInTheCrdsFieldNames() throws IOException {
        Map<String, Object> policy = defaults().get("ExecHealthPolicy", "default");
        assertEquals("execguard.io/v1alpha1", policy.get("apiVersion"));
        ObjectMapper strict = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
        ExecHealthPolicySpec spec = strict.convertValue(policy.get("spec"), ExecHealthPolicySpec.class);
        ExecHealthPolicySpec documented = ExecHealthPolicySpec.defaults().effective();
        documented.setDryRun(true); // the chart starts in dry run (issue 11 point 10); the CRD's default is false
        assertEquals(documented, spec.effective());
        assertEquals(Boolean.TRUE, spec.getDryRun(), "the chart's default policy starts in dry run");

        Map<String, Object> custom = Rendered.of(CUSTOM).get("ExecHealthPolicy", "default");
        ExecHealthPolicySpec c = strict.convertValue(custom.get("spec"), ExecHealthPolicySpec.class);
        assertEquals(Boolean.FALSE, c.getDryRun());
        assertEquals(3, c.getMaxUnhealthy().getIntVal());
        assertEquals("Taint", c.getActions().getNodeCritical().name());
    }

    @Test
    void namespaceIsCreatedAndLabelledPrivilegedOnlyWhenAsked() {
        assertFalse(defaults().has("Namespace"));
        Map<String, Object> ns = Rendered.of(CUSTOM).get("Namespace", Chart.NAMESPACE);
        Map<String, Object> labels = (Map<String, Object>) at(ns, "metadata", "labels");
        assertEquals("privileged", labels.get("pod-security.kubernetes.io/enforce"));
    }

    @Test
    void serviceMonitorsAreOptional() {
        assertFalse(defaults().has("ServiceMonitor"));
        assertFalse(defaults().has("Service"));
        Rendered r = Rendered.of(CUSTOM);
        assertEquals(Set.of(PROBE, OPERATOR), r.ofKind("ServiceMonitor").stream()
                .map(o -> str(o, "metadata", "name")).collect(Collectors.toSet()));
        assertEquals("9191", String.valueOf(at(((List<Map<String, Object>>) at(
                r.get("Service", PROBE + "-metrics"), "spec", "ports")).get(0), "port")));
    }

    @Test
    void everyNamespacedObjectIsInTheReleaseNamespaceAndLabelled() {
        for (Map<String, Object> o : Rendered.of(CUSTOM).objects()) {
            String kind = (String) o.get("kind");
            boolean clusterScoped = Set.of("ClusterRole", "ClusterRoleBinding", "Namespace", "ExecHealthPolicy",
                    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding").contains(kind);
            // the one exception: Events about cluster-scoped objects are accepted only in "default"
            boolean events = str(o, "metadata", "name").endsWith("-events");
            assertEquals(clusterScoped ? null : events ? "default" : Chart.NAMESPACE, str(o, "metadata", "namespace"),
                    kind + " " + str(o, "metadata", "name"));
            assertEquals("execguard", str(o, "metadata", "labels", "app.kubernetes.io/instance"), kind);
        }
    }

    @Test
    void notesTellTheUserToLookAtNodeExecHealth() throws IOException {
        String notes = Files.readString(Chart.DIR.resolve("templates/NOTES.txt"));
        assertTrue(notes.contains("kubectl get nodeexechealth"));
    }

    // ---- helpers ----

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rules(Map<String, Object> role) {
        Object r = role.get("rules");
        return r == null ? List.of() : (List<Map<String, Object>>) r;
    }

    static List<String> strings(Object o) {
        if (o == null) {
            return List.of();
        }
        return ((List<?>) o).stream().map(String::valueOf).toList();
    }

    /** "group/resource" → verbs, merged over rules; fails on resourceNames (none are used). */
    static Map<String, Set<String>> verbsByResource(Map<String, Object> role) {
        return verbsByResource(role, false);
    }

    /** Verbs by group/resource; resourceNames are allowed only where the caller checks them itself. */
    static Map<String, Set<String>> verbsByResource(Map<String, Object> role, boolean namesChecked) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        for (Map<String, Object> rule : rules(role)) {
            if (!namesChecked) {
                assertNull(rule.get("resourceNames"));
            }
            for (String g : strings(rule.get("apiGroups"))) {
                for (String res : strings(rule.get("resources"))) {
                    out.computeIfAbsent(g + "/" + res, k -> new TreeSet<>()).addAll(strings(rule.get("verbs")));
                }
            }
        }
        return out;
    }

    static Map<String, String> envOf(Rendered r, String kind, String name) {
        List<EnvVar> env = kind.equals("DaemonSet")
                ? r.typed(kind, name, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()
                : r.typed(kind, name, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
        Map<String, String> m = new HashMap<>();
        env.stream().filter(e -> e.getValue() != null).forEach(e -> m.put(e.getName(), e.getValue()));
        m.putIfAbsent("NODE_NAME", "worker-1");
        return m;
    }

    static boolean tolerates(List<Toleration> ts, String key) {
        return ts.stream().anyMatch(t -> "Exists".equals(t.getOperator()) && (t.getKey() == null || key.equals(t.getKey())));
    }
}
