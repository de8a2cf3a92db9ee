package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.PolicyThresholds;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.FindingType;

/**
 * The real {@code execguard probe} process against the real API server, authenticated like a
 * DaemonSet pod: a token bound to a Pod on its Node (so it carries the node-name claim the chart's
 * admission policy checks), the chart's RBAC and admission policy, the CRDs. The host root is the
 * {@code seed000-pids-limit} fixture with its pod UID replaced by the UID the server gave a real Pod on
 * the node. The steps share one probe process and run in order; the last deletes the Node.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProbeProcessKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(ProbeProcessKubeIT.class);
    private static final String PREFIX = "probeprocesskubeit";
    private static final String FIXTURE = "seed000-pids-limit";
    private static final String FIXTURE_POD_UID = "64a6c0e7-830c-11eb-86d6-b8cef604db88";
    private static final String FIXTURE_CONTAINER_ID = "aa1e331ec24f621ab3152ebe94f1e533734164af86c9df0f551eab2b1967ec4e";
    private static final String HOLD_FINALIZER = "execguard.test/hold";
    private static final Duration HEARTBEAT = Duration.ofSeconds(3);
    private static final Duration STUCK_TERMINATING = Duration.ofSeconds(2);
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final long GRACE_SECONDS = 8;
    private static final Pattern DENIED = Pattern.compile("(?i)\\b403\\b|forbidden|denied|admission");

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static String id;
    static String node;
    static String otherNode;
    static String namespace;
    static String policyName;
    static Node nodeObject;
    static Pod workload;
    static Path work;
    static Path hostRoot;
    static Path log;
    static Process probe;
    static String token;

    @BeforeAll
    static void up() throws Exception {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
        node = PREFIX + "-" + id;
        otherNode = PREFIX + "-" + id + "-other";
        namespace = PREFIX + "-" + id;
        policyName = "0-" + PREFIX + "-" + id; // sorts before any other policy name: the probe applies the first
        work = Files.createDirectories(Path.of("target", PREFIX + "-" + id)).toAbsolutePath();
        log = work.resolve("probe.log");

        cluster.applyCrds();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
        nodeObject = cluster.createNode(admin, node, Map.of("execguard.test/" + PREFIX, id));
        cluster.createNode(admin, otherNode, Map.of());
        createPolicy();
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
                .build()).create();
        KubeCluster.await(WAIT, "the service-account controller's default account in " + namespace,
                () -> admin.serviceAccounts().inNamespace(namespace).withName("default").get() != null);

        workload = cluster.createPodOn(admin, namespace, "workload", "default", node);
        Pod decoy = cluster.createPodOn(admin, namespace, "decoy-on-other-node", "default", otherNode);
        setContainerId(decoy, FIXTURE_CONTAINER_ID); // would win over the UID match if the probe saw it
        Pod probePod = cluster.createPodOn(admin, "execguard", node, "execguard-probe", node);
        Path kubeconfig = cluster.kubeconfigFor(cluster.podBoundToken(admin, probePod), work.resolve("kubeconfig"));
        hostRoot = fixtureWithPodUid(workload.getMetadata().getUid());
        probe = startProbe(kubeconfig);
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (probe != null) {
                probe.destroy();
                if (!probe.waitFor(20, TimeUnit.SECONDS)) {
                    probe.destroyForcibly();
                }
            }
        } finally {
            if (admin != null) {
                cleanUpObjects();
                admin.close();
            }
        }
    }

    private static void cleanUpObjects() {
        quietly(() -> admin.pods().inNamespace(namespace).list().getItems().forEach(p -> {
            admin.pods().inNamespace(namespace).withName(p.getMetadata().getName())
                    .edit(x -> { x.getMetadata().setFinalizers(List.of()); return x; });
        }));
        quietly(() -> admin.pods().inNamespace(namespace).withGracePeriod(0).delete());
        quietly(() -> admin.pods().inNamespace("execguard").withName(node).withGracePeriod(0).delete());
        quietly(() -> admin.v1().events().inNamespace("default").withField("involvedObject.name", node).delete());
        quietly(() -> admin.resources(ExecHealthPolicy.class).withName(policyName).delete());
        quietly(() -> admin.nodes().withName(node).delete());
        quietly(() -> admin.nodes().withName(otherNode).delete());
        quietly(() -> admin.resources(NodeExecHealth.class).withName(node).delete());
        quietly(() -> admin.resources(NodeExecHealth.class).withName(otherNode).delete());
        quietly(() -> admin.namespaces().withName(namespace).withTimeout(60, TimeUnit.SECONDS).delete());
        quietly(() -> cluster.deleteAll(admin, chart));
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("cleanup of {}: {}", node, e.toString());
        }
    }

    @Test
    @Order(1)
    void createsItsReportOwnedByTheNodeWithTheScanCommandsFindings() throws Exception {
        NodeExecHealth neh = awaitReport("a report with findings",
                r -> r.getStatus() != null && r.getStatus().getFindings() != null
                        && !r.getStatus().getFindings().isEmpty());
        OwnerReference owner = neh.getMetadata().getOwnerReferences().stream().filter(o -> "Node".equals(o.getKind()))
                .findFirst().orElseThrow(() -> new AssertionError("no Node owner: " + neh.getMetadata()));
        assertEquals(node, owner.getName());
        assertEquals(nodeObject.getMetadata().getUid(), owner.getUid());
        assertEquals(node, neh.getSpec().getNodeName());

        JsonNode scan = scan(hostRoot);
        List<ReportedFinding> reported = neh.getStatus().getFindings();
        assertEquals(scan.get("findings").size(), reported.size(), () -> "scan: " + scan + "\nprobe: " + reported);
        for (JsonNode expected : scan.get("findings")) {
            ReportedFinding actual = reported.stream()
                    .filter(f -> f.getType().name().equals(expected.get("type").asText())
                            && f.getMessage().equals(expected.get("message").asText()))
                    .findFirst().orElseThrow(() -> new AssertionError("probe lacks " + expected + ": " + reported));
            assertEquals(expected.get("cause").asText(), actual.getCause().name());
            assertEquals(expected.get("severity").asText(), actual.getSeverity().name());
            assertEquals(expected.get("scope").asText(), actual.getScope().name());
            assertEquals(text(expected, "containerId"), actual.getContainerId());
            assertEquals(text(expected, "podUid"), actual.getPodUid());
            assertEquals(text(expected, "cgroup"), actual.getCgroup());
        }
        assertEquals(scan.get("tasksScanned").asInt(), neh.getStatus().getTasksScanned());
        assertEquals(scan.at("/host/hostname").asText(), neh.getStatus().getHost().getHostname());
    }

    @Test
    @Order(2)
    void attributesTheFindingToThePodOfItsNodeThroughTheNodeLocalWatch() {
        NodeExecHealth byUid = awaitReport("the PidsLimitReached finding attributed to " + namespace + "/workload",
                r -> finding(r, FindingType.PidsLimitReached).map(f -> "workload".equals(f.getPodName())).orElse(false));
        ReportedFinding f = finding(byUid, FindingType.PidsLimitReached).orElseThrow();
        assertEquals(namespace, f.getPodNamespace());
        assertEquals(workload.getMetadata().getUid(), f.getPodUid());
        assertNull(f.getContainerName(), "matched by pod UID, not by the decoy's container id on " + otherNode);

        // the probe's own credentials see exactly this node's pods through the field selector
        try (KubernetesClient asProbe = cluster.withToken(probeToken())) {
            List<String> seen = asProbe.pods().inAnyNamespace().withField("spec.nodeName", node).list().getItems()
                    .stream().map(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()).toList();
            assertTrue(seen.contains(namespace + "/workload"), seen::toString);
            assertFalse(seen.contains(namespace + "/decoy-on-other-node"), seen::toString);
        }

        // a change arriving through the watch: the container id in the pod's status now names the container
        setContainerId(workload, FIXTURE_CONTAINER_ID);
        awaitReport("the finding attributed to container c of " + namespace + "/workload",
                r -> finding(r, FindingType.PidsLimitReached).map(x -> "c".equals(x.getContainerName())
                        && "workload".equals(x.getPodName()) && namespace.equals(x.getPodNamespace())).orElse(false));
    }

    @Test
    @Order(3)
    void reportsAPodHeldTerminatingByAFinalizerUntilItIsReleased() {
        Pod held = cluster.createPodOn(admin, namespace, "held", "default", node);
        admin.pods().inNamespace(namespace).withName("held").edit(p -> {
            p.getMetadata().setFinalizers(List.of(HOLD_FINALIZER));
            return p;
        });
        Instant deleteAt = Instant.now();
        admin.pods().inNamespace(namespace).withName("held").withGracePeriod(GRACE_SECONDS).delete();
        Pod deleting = admin.pods().inNamespace(namespace).withName("held").get();
        assertNotNull(deleting.getMetadata().getDeletionTimestamp(), "the finalizer holds the pod");
        Instant graceEnds = OffsetDateTime.parse(deleting.getMetadata().getDeletionTimestamp()).toInstant();
        LOG.info("node {}: pod held deleted at {}: deletionTimestamp {} deletionGracePeriodSeconds {}", node, deleteAt,
                graceEnds, deleting.getMetadata().getDeletionGracePeriodSeconds());
        // the server's semantics the probe relies on: the deletion timestamp is the end of the grace period
        assertEquals(GRACE_SECONDS, deleting.getMetadata().getDeletionGracePeriodSeconds());
        assertTrue(Math.abs(Duration.between(deleteAt.plusSeconds(GRACE_SECONDS), graceEnds).toMillis()) < 2_000,
                () -> "deletionTimestamp " + graceEnds + " for a delete at " + deleteAt);

        NodeExecHealth stuck = awaitReport("PodStuckTerminating for " + namespace + "/held",
                r -> stuckTerminating(r).isPresent());
        ReportedFinding f = stuckTerminating(stuck).orElseThrow();
        assertEquals(namespace, f.getPodNamespace());
        assertEquals(held.getMetadata().getUid(), f.getPodUid());
        assertTrue(f.getMessage().contains(namespace + "/held"), f.getMessage());
        // due at deletionTimestamp + threshold: not earlier, and without adding the grace period a second time
        Instant firstSeen = Instant.parse(f.getFirstSeen());
        Instant due = graceEnds.plus(STUCK_TERMINATING);
        assertFalse(firstSeen.isBefore(due.minusSeconds(1)), () -> "first seen " + firstSeen + ", due " + due);
        assertTrue(firstSeen.isBefore(due.plusSeconds(GRACE_SECONDS)),
                () -> "first seen " + firstSeen + ": the grace period ending " + graceEnds + " was counted twice");

        // the kubelet's part once containers are gone: the finalizer is removed, the pod deleted for good
        admin.pods().inNamespace(namespace).withName("held").edit(p -> {
            p.getMetadata().setFinalizers(List.of());
            return p;
        });
        admin.pods().inNamespace(namespace).withName("held").withGracePeriod(0).delete();
        KubeCluster.await(WAIT, "pod held gone", () -> admin.pods().inNamespace(namespace).withName("held").get() == null);
        awaitReport("PodStuckTerminating cleared", r -> stuckTerminating(r).isEmpty()
                && finding(r, FindingType.PidsLimitReached).isPresent());
    }

    @Test
    @Order(4)
    void theSameTokenIsDeniedAnotherNodesReport() {
        NodeExecHealth foreign = NodeExecHealth.forNode(admin.nodes().withName(otherNode).get());
        try (KubernetesClient asProbe = cluster.withToken(probeToken())) {
            KubernetesClientException e = assertThrows(KubernetesClientException.class,
                    () -> asProbe.resources(NodeExecHealth.class).resource(foreign).create());
            assertEquals(403, e.getCode(), e::getMessage);
            assertTrue(e.getMessage().contains("the execguard probe on node " + node + " may only write NodeExecHealth/"
                    + node + ", not " + otherNode), e::getMessage);
        }
        assertNull(admin.resources(NodeExecHealth.class).withName(otherNode).get());
    }

    @Test
    @Order(5)
    void loggedNoDenialAndKeepsRunning() throws IOException {
        assertTrue(probe.isAlive(), "probe exited " + (probe.isAlive() ? "" : probe.exitValue()) + ": " + tail());
        List<String> denials = Files.readAllLines(log).stream().filter(l -> DENIED.matcher(l).find()).toList();
        assertEquals(List.of(), denials);
        assertTrue(Files.readString(log).contains("created NodeExecHealth"), tail());
    }

    @Test
    @Order(6)
    void deletingTheNodeGarbageCollectsItsReport() throws Exception {
        admin.nodes().withName(node).delete();
        KubeCluster.await(WAIT, "the garbage collector deleting NodeExecHealth/" + node,
                () -> admin.resources(NodeExecHealth.class).withName(node).get() == null);
        // the probe keeps scanning and heartbeating: it must not bring an ownerless report back
        Thread.sleep(HEARTBEAT.multipliedBy(3).toMillis());
        assertNull(admin.resources(NodeExecHealth.class).withName(node).get(), "report recreated without its Node");
        assertTrue(probe.isAlive(), tail());
        assertTrue(Files.readString(log).contains("not creating a NodeExecHealth without its owner"), tail());
    }

    private static NodeExecHealth awaitReport(String what, Predicate<NodeExecHealth> cond) {
        NodeExecHealth[] last = new NodeExecHealth[1];
        try {
            KubeCluster.await(WAIT, what + " in NodeExecHealth/" + node, () -> {
                if (!probe.isAlive()) {
                    throw new AssertionError("probe exited " + probe.exitValue() + ": " + tail());
                }
                last[0] = admin.resources(NodeExecHealth.class).withName(node).get();
                return last[0] != null && cond.test(last[0]);
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nlast: " + last[0] + "\nprobe log: " + tail(), e);
        }
        return last[0];
    }

    private static Optional<ReportedFinding> finding(NodeExecHealth r, FindingType type) {
        return r.getStatus() == null || r.getStatus().getFindings() == null ? Optional.empty()
                : r.getStatus().getFindings().stream().filter(f -> f.getType() == type).findFirst();
    }

    private static Optional<ReportedFinding> stuckTerminating(NodeExecHealth r) {
        return finding(r, FindingType.PodStuckTerminating).filter(f -> "held".equals(f.getPodName()));
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }

    private static void createPolicy() {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(policyName);
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        spec.setNodeSelector(Map.of("execguard.test/" + PREFIX, id));
        PolicyThresholds t = new PolicyThresholds();
        t.setPodStuckTerminatingSeconds(STUCK_TERMINATING.toSeconds());
        spec.setThresholds(t);
        p.setSpec(spec);
        admin.resources(ExecHealthPolicy.class).resource(p).create();
    }

    /** What a kubelet reports for a running container, with the runtime's id of it. */
    private static void setContainerId(Pod pod, String containerId) {
        admin.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(p -> {
            p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("c")
                    .withImage("execguard.test/none:0").withImageID("").withReady(false).withRestartCount(0)
                    .withContainerID("docker://" + containerId).withNewState().withNewRunning()
                    .withStartedAt(Instant.now().toString()).endRunning().endState().build()));
            return p;
        });
    }

    private static String probeToken() {
        if (token == null) {
            Pod probePod = admin.pods().inNamespace("execguard").withName(node).get();
            token = cluster.podBoundToken(admin, probePod);
        }
        return token;
    }

    /** The fixture tree, copied, with its pod UID replaced (file contents and cgroup directory names). */
    private static Path fixtureWithPodUid(String uid) throws IOException {
        Path from = Path.of("src/test/resources/fixtures", FIXTURE).toAbsolutePath();
        Path to = work.resolve("host");
        // /proc/PID/ns/* are (dangling) symbolic links in the fixtures: copied as links
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString().replace(FIXTURE_POD_UID, uid));
                if (Files.isSymbolicLink(p)) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.writeString(target, Files.readString(p, StandardCharsets.ISO_8859_1)
                            .replace(FIXTURE_POD_UID, uid), StandardCharsets.ISO_8859_1);
                }
            }
        }
        return to;
    }

    private static Process startProbe(Path kubeconfig) throws IOException {
        List<String> cmd = List.of(java(), "-jar", jar(), "probe");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("KUBERNETES_"));
        env.put("KUBECONFIG", kubeconfig.toString());
        env.put("NODE_NAME", node);
        env.put("HOST_ROOT", hostRoot.toString());
        env.put("SCAN_INTERVAL", "1s");
        env.put("HEARTBEAT", HEARTBEAT.toSeconds() + "s");
        env.put("METRICS_PORT", Integer.toString(freePort()));
        env.put("POD_STUCK_TERMINATING", STUCK_TERMINATING.toSeconds() + "s");
        LOG.info("node {}: starting {} (log {})", node, cmd, log);
        return pb.start();
    }

    private static JsonNode scan(Path root) throws Exception {
        Path out = work.resolve("scan.json");
        Process p = new ProcessBuilder(java(), "-jar", jar(), "scan", "--host-root", root.toString(), "--output", "json",
                "--confirm-seconds", "0").redirectOutput(out.toFile()).redirectError(work.resolve("scan.err").toFile())
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "scan did not finish");
        assertEquals(1, p.exitValue(), "scan exit code (1: findings)");
        return new ObjectMapper().readTree(out.toFile());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String jar() {
        String jar = System.getProperty("execguard.jar", "target/execguard.jar");
        assertTrue(Files.isRegularFile(Path.of(jar)), "no " + jar + " (mvn package builds it)");
        return jar;
    }

    private static String tail() {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            return String.join("\n", new ArrayList<>(lines.subList(Math.max(0, lines.size() - 40), lines.size())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
